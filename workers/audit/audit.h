/*
 * audit.h - the audit worker: stores every identity event of
 * identity.events in audit_events (sql/0003_audit_events.sql) and serves
 * them to admins.
 *
 * Files: main.c (config, consume loop, delivery decisions), event.c (an
 * event's JSON checked into a row), store.c (the INSERT), list.c (GET
 * /api/v1/audit).
 *
 * event.c and store.c run on the consumer loop (one thread); list.c's
 * handler on the HTTP server's threads (each has its own PGconn, db.h).
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stddef.h>

#include <jansson.h>

#include "http.h"

#define AUDIT_TOPIC "identity.events"
#define AUDIT_GROUP "identity-audit"

#define AUDIT_MAX_PAYLOAD 65536 /* bytes of one event */
#define AUDIT_TYPE_MAX 100      /* characters of a type */
#define AUDIT_TEXT_MAX 200      /* characters of subject, request_id, ip */


/* ---------------------------------------------------------------- event.c */

/* One event as a row: every string points into root (or is NULL). */
typedef struct {
    json_t     *root;
    const char *event_id;    /* "id": a UUID */
    const char *type;        /* e.g. "user.registered" */
    const char *subject;     /* a user id, or NULL */
    const char *occurred_at; /* RFC 3339 */
    const char *request_id;  /* or NULL */
    const char *ip;          /* an IPv4 or IPv6 address, or NULL */
    char       *data;        /* "data" as JSON text ("{}" if absent) */
} audit_event_t;

/*
 * Reads one message of identity.events.  0: *ev is filled (free with
 * audit_event_free); -1: not an event we can store (not a JSON object, no
 * id/type/occurred_at or one of them malformed), the reason in err.
 * Members of the wrong kind that are optional (subject, request_id, ip)
 * are dropped, not fatal: the event still happened.
 */
int  audit_event_parse(const char *payload, size_t len, audit_event_t *ev,
                       char *err, size_t errlen);
void audit_event_free(audit_event_t *ev); /* idempotent */

/* 1 if s is a UUID in its 8-4-4-4-12 hex form, else 0. */
int audit_uuid_valid(const char *s);

/* 1 if s is an RFC 3339 date-time ("2026-12-06T02:31:00.123Z",
 * "...+01:00"), else 0.  PostgreSQL checks the calendar. */
int audit_time_valid(const char *s);


/* ---------------------------------------------------------------- store.c */

typedef enum {
    AUDIT_STORED,    /* a new row */
    AUDIT_DUPLICATE, /* that event_id was stored before (a replay) */
    AUDIT_REJECTED,  /* PostgreSQL refused the values (a bad date, say) */
    AUDIT_DB_DOWN    /* try again later */
} audit_store_result_t;

audit_store_result_t audit_store(const audit_event_t *ev);


/* ----------------------------------------------------------------- list.c */

/* GET /api/v1/audit?limit=&offset=&subject=&type= (admin). */
void audit_list(id_http_req_t *r);

#define AUDIT_LIMIT_DEFAULT 50
#define AUDIT_LIMIT_MAX 200
#define AUDIT_OFFSET_MAX 1000000

typedef struct {
    long        limit;
    long        offset;
    const char *subject; /* NULL: any */
    const char *type;    /* NULL: any */
} audit_query_t;

/*
 * The query string's arguments (get returns an argument or NULL) checked
 * into q; problems appended to errors (problem.h) per field.  0 ok, -1 not.
 */
int audit_query_parse(const char *(*get)(void *ctx, const char *name),
                      void *ctx, audit_query_t *q, json_t *errors);

#endif
