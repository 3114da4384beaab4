/*
 * test_audit.c - the audit worker's checks: which messages are events it
 * stores (audit/event.c), and the list's query string (audit/list.c).
 */
#include <string.h>

#include "unit.h"

#include "../audit/event.c"
#include "../audit/list.c"


static int
parses(const char *json, audit_event_t *ev, char *err, size_t errlen)
{
    err[0] = '\0';
    return audit_event_parse(json, strlen(json), ev, err, errlen);
}


static int
refused(const char *json, const char *want_in_err)
{
    int           rc;
    char          err[256];
    audit_event_t ev;

    rc = parses(json, &ev, err, sizeof(err));
    audit_event_free(&ev);
    return rc == -1 && strstr(err, want_in_err) != NULL;
}


/* The query string of a test: "name=value" pairs, NULL-terminated. */
static const char *
args_get(void *ctx, const char *name)
{
    const char *const *a = ctx;
    size_t             n = strlen(name);

    for (; *a != NULL; a++) {
        if (strncmp(*a, name, n) == 0 && (*a)[n] == '=') {
            return *a + n + 1;
        }
    }
    return NULL;
}


static int
query(const char *const *args, audit_query_t *q, char *fields, size_t len)
{
    int     rc;
    size_t  i;
    json_t *errors = json_array();

    rc = audit_query_parse(args_get, (void *) args, q, errors);
    fields[0] = '\0';
    for (i = 0; i < json_array_size(errors); i++) {
        if (i > 0) {
            strncat(fields, ",", len - strlen(fields) - 1);
        }
        strncat(fields,
                json_string_value(
                    json_object_get(json_array_get(errors, i), "field")),
                len - strlen(fields) - 1);
    }
    json_decref(errors);
    return rc;
}


int
main(void)
{
    int           rc;
    char          err[256], fields[128];
    audit_event_t ev;
    audit_query_t q;

    rc = parses("{\"id\":\"0b0e7a52-3c1d-4b7e-9a55-1f2e3d4c5b6a\","
                "\"type\":\"user.logged_in\","
                "\"occurred_at\":\"2026-12-06T02:31:00.123Z\","
                "\"subject\":\"u-1\",\"data\":{\"session_id\":\"s\"},"
                "\"request_id\":\"rid-9\",\"ip\":\"127.0.0.1\"}",
                &ev, err, sizeof(err));
    UNIT_INT(rc, 0, "an event");
    UNIT_STR(ev.event_id, "0b0e7a52-3c1d-4b7e-9a55-1f2e3d4c5b6a", "its id");
    UNIT_STR(ev.type, "user.logged_in", "its type");
    UNIT_STR(ev.subject, "u-1", "its subject");
    UNIT_STR(ev.request_id, "rid-9", "its request id");
    UNIT_STR(ev.ip, "127.0.0.1", "its address");
    UNIT_STR(ev.data, "{\"session_id\":\"s\"}", "its data as JSON text");
    audit_event_free(&ev);

    rc = parses("{\"id\":\"0B0E7A52-3C1D-4B7E-9A55-1F2E3D4C5B6A\","
                "\"type\":\"profile.updated\","
                "\"occurred_at\":\"2026-12-06T03:31:00+01:00\","
                "\"subject\":42,\"request_id\":\"\",\"ip\":\"not an ip\"}",
                &ev, err, sizeof(err));
    UNIT_INT(rc, 0, "a type of tomorrow, an offset, only the required parts");
    UNIT_OK(ev.subject == NULL && ev.request_id == NULL && ev.ip == NULL,
            "optional members of the wrong kind are dropped");
    UNIT_STR(ev.data, "{}", "no data: {}");
    audit_event_free(&ev);

    rc = parses("{\"id\":\"0b0e7a52-3c1d-4b7e-9a55-1f2e3d4c5b6a\","
                "\"type\":\"x\",\"occurred_at\":\"2026-12-06T02:31:00Z\","
                "\"ip\":\"2001:db8::1\"}",
                &ev, err, sizeof(err));
    UNIT_STR(ev.ip, "2001:db8::1", "an IPv6 address");
    audit_event_free(&ev);

    UNIT_OK(refused("not json", "not JSON"), "garbage: not JSON");
    UNIT_OK(refused("", "empty"), "an empty message");
    UNIT_OK(refused("[1,2]", "not a JSON object"), "an array");
    UNIT_OK(refused("{\"type\":\"a\",\"occurred_at\":\"2026-12-06T02:31:00Z\"}",
                    "id"),
            "no id");
    UNIT_OK(refused("{\"id\":\"42\",\"type\":\"a\","
                    "\"occurred_at\":\"2026-12-06T02:31:00Z\"}",
                    "id"),
            "an id that is no UUID");
    UNIT_OK(refused("{\"id\":\"0b0e7a52-3c1d-4b7e-9a55-1f2e3d4c5b6a\","
                    "\"occurred_at\":\"2026-12-06T02:31:00Z\"}",
                    "type"),
            "no type");
    UNIT_OK(refused("{\"id\":\"0b0e7a52-3c1d-4b7e-9a55-1f2e3d4c5b6a\","
                    "\"type\":\"\",\"occurred_at\":\"2026-12-06T02:31:00Z\"}",
                    "type"),
            "an empty type");
    UNIT_OK(refused("{\"id\":\"0b0e7a52-3c1d-4b7e-9a55-1f2e3d4c5b6a\","
                    "\"type\":\"a\"}",
                    "occurred_at"),
            "no occurred_at");
    UNIT_OK(refused("{\"id\":\"0b0e7a52-3c1d-4b7e-9a55-1f2e3d4c5b6a\","
                    "\"type\":\"a\",\"occurred_at\":\"yesterday\"}",
                    "occurred_at"),
            "occurred_at not RFC 3339");
    UNIT_OK(refused("{\"id\":\"0b0e7a52-3c1d-4b7e-9a55-1f2e3d4c5b6a\","
                    "\"id\":\"0b0e7a52-3c1d-4b7e-9a55-1f2e3d4c5b6b\","
                    "\"type\":\"a\",\"occurred_at\":\"2026-12-06T02:31:00Z\"}",
                    "not JSON"),
            "a repeated member");

    UNIT_OK(audit_time_valid("2026-12-06T02:31:00.123456Z"), "microseconds");
    UNIT_OK(!audit_time_valid("2026-12-06T02:31:00."), "a dot, no digits");
    UNIT_OK(!audit_time_valid("2026-12-06 02:31:00Z"), "a blank for T");
    UNIT_OK(!audit_time_valid("2026-12-06T02:31:00+0100"), "offset needs :");
    UNIT_OK(!audit_uuid_valid("0b0e7a52-3c1d-4b7e-9a55-1f2e3d4c5b6"),
            "a short UUID");

    {
        const char *const none[] = { NULL };
        const char *const all[] = { "limit=200", "offset=40", "subject=u-1",
                                    "type=user.logged_in", NULL };
        const char *const bad[] = { "limit=0", "offset=-1",
                                    "subject=", "type=", NULL };
        const char *const big[] = { "limit=201", "offset=1000001", NULL };
        const char *const odd[] = { "limit=+5", "offset=1e3", NULL };
        const char *const word[] = { "limit=ten", "offset= 1", NULL };

        rc = query(none, &q, fields, sizeof(fields));
        UNIT_OK(rc == 0 && q.limit == 50 && q.offset == 0 &&
                    q.subject == NULL && q.type == NULL,
                "defaults: limit 50, offset 0, no filter");
        rc = query(all, &q, fields, sizeof(fields));
        UNIT_OK(rc == 0 && q.limit == 200 && q.offset == 40 &&
                    strcmp(q.subject, "u-1") == 0 &&
                    strcmp(q.type, "user.logged_in") == 0,
                "every argument read; limit 200 is the most");
        rc = query(bad, &q, fields, sizeof(fields));
        UNIT_INT(rc, -1, "bad values refused");
        UNIT_STR(fields, "limit,offset,subject,type", "each field named");
        rc = query(big, &q, fields, sizeof(fields));
        UNIT_STR(fields, "limit,offset", "limit over 200, offset too far");
        rc = query(odd, &q, fields, sizeof(fields));
        UNIT_STR(fields, "limit,offset", "a sign or an exponent: no number");
        rc = query(word, &q, fields, sizeof(fields));
        UNIT_STR(fields, "limit,offset", "words and blanks: no number");
    }

    return UNIT_DONE();
}
