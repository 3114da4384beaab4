/*
 * list.c - GET /api/v1/audit?limit=&offset=&subject=&type= (audit.h).
 *
 * Admins only (the gateway checks the role too).  Newest first in a stable
 * order, occurred_at then id, both descending, so that pages do not overlap
 * or skip while events arrive with older timestamps.  The answer:
 *   {"events":[{"id","event_id","type","subject","occurred_at",
 *               "request_id","ip","data"}...],
 *    "count":<events on this page>,"total":<events matching the filters,
 *    all pages>,"limit","offset"} (the shape of GET /api/v1/users)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "audit.h"
#include "db.h"
#include "json.h"
#include "page.h"
#include "problem.h"
#include "reply.h"

#define AUDIT_WHERE                                                            \
    " FROM audit_events"                                                       \
    " WHERE ($1::text IS NULL OR subject = $1)"                                \
    "   AND ($2::text IS NULL OR type = $2)"

static const char audit_list_sql[] =
    "SELECT id, event_id, type, subject,"
    " to_char(occurred_at AT TIME ZONE 'UTC',"
    "         'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS occurred_at,"
    " request_id, host(ip) AS ip, data::text AS data" AUDIT_WHERE
    " ORDER BY occurred_at DESC, id DESC LIMIT $3 OFFSET $4";

static const char audit_count_sql[] = "SELECT count(*) AS n" AUDIT_WHERE;

static const id_page_rules_t audit_page_rules = { AUDIT_LIMIT_DEFAULT,
                                                  AUDIT_LIMIT_MAX,
                                                  AUDIT_OFFSET_MAX };


/* A filter: absent is NULL; present, 1 to max characters without
 * control characters. */
static int
audit_filter(const char *s, const char *name, size_t max, const char **out,
             json_t *errors)
{
    char        msg[64];
    const char *p;

    *out = NULL;
    if (s == NULL) {
        return 0;
    }
    for (p = s; *p != '\0'; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            id_problem_add_error(errors, name,
                                 "must not contain control characters");
            return -1;
        }
    }
    if (s[0] == '\0' || id_json_utf8_len(s) > max) {
        snprintf(msg, sizeof(msg), "must be 1 to %zu characters", max);
        id_problem_add_error(errors, name, msg);
        return -1;
    }
    *out = s;
    return 0;
}


int
audit_query_parse(const char *(*get)(void *ctx, const char *name), void *ctx,
                  audit_query_t *q, json_t *errors)
{
    int       rc = 0;
    id_page_t page;

    if (id_page_read(get(ctx, "limit"), get(ctx, "offset"), &audit_page_rules,
                     &page, errors) != 0) {
        rc = -1;
    }
    q->limit = page.limit;
    q->offset = page.offset;
    if (audit_filter(get(ctx, "subject"), "subject", AUDIT_TEXT_MAX,
                     &q->subject, errors) != 0) {
        rc = -1;
    }
    if (audit_filter(get(ctx, "type"), "type", AUDIT_TYPE_MAX, &q->type,
                     errors) != 0) {
        rc = -1;
    }
    return rc;
}


static const char *
audit_query_get(void *ctx, const char *name)
{
    return id_http_query(ctx, name);
}


static json_t *
audit_row(const PGresult *res, int i)
{
    json_t     *data;
    const char *text;

    text = id_db_value(res, i, "data");
    data = text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    return json_pack(
        "{s:I, s:s, s:s, s:s?, s:s, s:s?, s:s?, s:o}", "id",
        (json_int_t) strtoll(id_db_value(res, i, "id"), NULL, 10), "event_id",
        id_db_value(res, i, "event_id"), "type", id_db_value(res, i, "type"),
        "subject", id_db_value(res, i, "subject"), "occurred_at",
        id_db_value(res, i, "occurred_at"), "request_id",
        id_db_value(res, i, "request_id"), "ip", id_db_value(res, i, "ip"),
        "data", data != NULL ? data : json_object());
}


void
audit_list(id_http_req_t *r)
{
    int           i, n;
    char          limit[24], offset[24];
    json_t       *errors, *events, *row;
    PGresult     *res = NULL, *cnt = NULL;
    audit_query_t q;
    const char   *params[4];

    if (r->id.role == NULL || strcmp(r->id.role, "admin") != 0) {
        id_http_send_problem(r, 403, "forbidden",
                             "only an admin may read the audit trail", NULL);
        return;
    }
    errors = json_array();
    if (errors == NULL) {
        id_http_send_problem(r, 500, "internal_error", NULL, NULL);
        return;
    }
    if (audit_query_parse(audit_query_get, r, &q, errors) != 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);

    snprintf(limit, sizeof(limit), "%ld", q.limit);
    snprintf(offset, sizeof(offset), "%ld", q.offset);
    params[0] = q.subject;
    params[1] = q.type;
    params[2] = limit;
    params[3] = offset;
    res = id_db_exec(audit_list_sql, 4, params, NULL);
    cnt = res != NULL ? id_db_exec(audit_count_sql, 2, params, NULL) : NULL;
    if (res == NULL || cnt == NULL) {
        id_reply_unavailable(r, "the database");
        goto done;
    }
    events = json_array();
    n = PQntuples(res);
    for (i = 0; i < n; i++) {
        row = audit_row(res, i);
        if (row == NULL || json_array_append_new(events, row) != 0) {
            json_decref(events);
            id_http_send_problem(r, 500, "internal_error", NULL, NULL);
            goto done;
        }
    }
    id_http_send_json(r, 200,
                      id_page_json("events", events, id_db_value(cnt, 0, "n"),
                                   q.limit, q.offset));

done:

    PQclear(res);
    PQclear(cnt);
}
