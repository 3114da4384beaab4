/*
 * test_realtime_rules.c - identity-realtime's pure parts: what a client's
 * message may be (recipients or seed 003's recepients, a non-empty string
 * message, the sender never taken from the client), the frames it
 * receives, what travels on the Redis channel and the revocation feed,
 * the welcome's name, the gateway's exp, user ids, the sessions read back
 * after a resubscribe, the connection registry with its bounded outgoing
 * queues, the bounded inbox and the jobs queue (full, and the stop first).
 */
#include <stdlib.h>
#include <string.h>

#include "../realtime/message.c"
#include "../realtime/registry.c"
#include "../realtime/inbox.c"
#include "../realtime/jobs.c"
#include "unit.h"

const size_t rt_out_headroom = 16;

/* the loop's wake-up, counted instead (the one lws call inbox.c makes) */
static int woken;

void
lws_cancel_service(struct lws_context *context)
{
    (void) context;
    woken++;
}

static rt_msg_t msg;
static char     detail[200];


static int
parse(const char *text)
{
    rt_msg_clear(&msg);
    detail[0] = '\0';
    return rt_msg_parse(text, strlen(text), &msg, detail, sizeof(detail));
}


static const char *
to_list(void)
{
    static char out[256];
    size_t      i;

    out[0] = '\0';
    if (msg.to == NULL) {
        return "(everyone)";
    }
    for (i = 0; i < json_array_size(msg.to); i++) {
        if (i > 0) {
            strcat(out, ",");
        }
        strcat(out, json_string_value(json_array_get(msg.to, i)));
    }
    return out;
}


static void
test_parse(void)
{
    char   big[4096];
    size_t n;
    int    i;

    UNIT_INT(parse("{\"recipients\":[\"u1\",\"u2\"],\"message\":\"hi\"}"), 0,
             "recipients and a message");
    UNIT_STR(to_list(), "u1,u2", "  the recipients");
    UNIT_STR(msg.text, "hi", "  the message");
    UNIT_INT(parse("{\"recepients\":[\"u1\"],\"message\":\"hi\"}"), 0,
             "seed 003's spelling recepients");
    UNIT_STR(to_list(), "u1", "  its recipients");
    UNIT_INT(parse("{\"sender\":\"mallory\",\"recipients\":[\"u1\"],"
                   "\"message\":\"hi\"}"),
             0, "a sender field is accepted");
    UNIT_OK(strstr(to_list(), "mallory") == NULL, "  and ignored");
    UNIT_INT(parse("{\"message\":\"all\"}"), 0, "no recipients");
    UNIT_STR(to_list(), "(everyone)", "  everyone");
    UNIT_INT(parse("{\"message\":\"all\",\"recipients\":[]}"), 0,
             "an empty list");
    UNIT_STR(to_list(), "(everyone)", "  everyone too");
    UNIT_INT(parse("{\"message\":\"all\",\"recipients\":null}"), 0,
             "null recipients: everyone");
    UNIT_INT(parse("{\"message\":\"x\",\"recipients\":[\"u1\",\"u1\",\"u2\"]}"),
             0, "a recipient named twice");
    UNIT_STR(to_list(), "u1,u2", "  gets it once");
    UNIT_INT(parse("{\"message\":\"caf\\u00e9 \xe2\x9c\x93\"}"), 0, "UTF-8");

    UNIT_INT(parse("nope"), -1, "not JSON");
    UNIT_OK(strncmp(detail, "not JSON", 8) == 0, "  says so");
    UNIT_INT(parse("[\"message\"]"), -1, "an array");
    UNIT_INT(parse("{\"recipients\":[\"u1\"]}"), -1, "no message");
    UNIT_STR(detail, "message must be a non-empty string", "  says so");
    UNIT_INT(parse("{\"message\":\"\"}"), -1, "an empty message");
    UNIT_INT(parse("{\"message\":7}"), -1, "a number for message");
    UNIT_INT(parse("{\"message\":\"x\",\"recipients\":\"u1\"}"), -1,
             "recipients as a string");
    UNIT_INT(parse("{\"message\":\"x\",\"recipients\":[\"\"]}"), -1,
             "an empty recipient");
    UNIT_STR(detail, "recipients[0] is not a user id", "  names it");
    UNIT_INT(parse("{\"message\":\"x\",\"recipients\":[\"u\",1]}"), -1,
             "a number as recipient");
    UNIT_STR(detail, "recipients[1] is not a user id", "  names it");
    UNIT_INT(parse("{\"message\":\"x\",\"recipients\":[\"a\"],"
                   "\"recepients\":[\"b\"]}"),
             -1, "both spellings");
    UNIT_INT(parse("{\"message\":\"x\",\"message\":\"y\"}"), -1,
             "a duplicate key");
    UNIT_INT(parse("{\"message\":\"\xff\"}"), -1, "invalid UTF-8");

    n = (size_t) snprintf(big, sizeof(big),
                          "{\"message\":\"x\","
                          "\"recipients\":[");
    for (i = 0; i < RT_RECIPIENTS_MAX + 1; i++) {
        n += (size_t) snprintf(big + n, sizeof(big) - n, "%s\"u%d\"",
                               i ? "," : "", i);
    }
    snprintf(big + n, sizeof(big) - n, "]}");
    UNIT_INT(parse(big), -1, "101 recipients");
    UNIT_STR(detail, "at most 100 recipients", "  says the limit");
    rt_msg_clear(&msg);
}


/* rt_bus_decode() of a NUL-terminated text; frees what it returns. */
static int
bus_decode(const char *text)
{
    int     rc;
    char   *frame;
    json_t *to;

    rc = rt_bus_decode(text, strlen(text), &to, &frame);
    json_decref(to);
    free(frame);
    return rc;
}


static void
test_frames(void)
{
    char   *f, *enc, *got, now[32], sid[RT_ID_MAX], name[64];
    char    big[RT_ID_MAX + 32], line[2048];
    size_t  n;
    int     i;
    json_t *to;

    f = rt_frame_message("u1", "hi \"there\"", "2026-01-02T03:04:05.678Z");
    UNIT_STR(f,
             "{\"type\":\"message\",\"from\":\"u1\",\"message\":"
             "\"hi \\\"there\\\"\",\"sent_at\":\"2026-01-02T03:04:05.678Z\"}",
             "a delivered message");
    free(f);
    f = rt_frame_welcome("Ann", "2026-01-02T03:04:05.678Z");
    UNIT_STR(f,
             "{\"type\":\"system\",\"event\":\"welcome\",\"message\":"
             "\"Welcome back, Ann\",\"sent_at\":\"2026-01-02T03:04:05.678Z\"}",
             "the welcome");
    free(f);
    f = rt_frame_error("rate_limited", "too many messages", 1500);
    UNIT_STR(f,
             "{\"type\":\"error\",\"code\":\"rate_limited\",\"detail\":"
             "\"too many messages\",\"retry_after_ms\":1500}",
             "a rate_limited error");
    free(f);
    f = rt_frame_error("bad_message", "not JSON", -1);
    UNIT_STR(f,
             "{\"type\":\"error\",\"code\":\"bad_message\",\"detail\":"
             "\"not JSON\"}",
             "a bad_message error, no retry");
    free(f);
    id_event_now(now);
    UNIT_INT((int) strlen(now), 24, "sent_at: ISO 8601 with ms");
    UNIT_OK(now[10] == 'T' && now[19] == '.' && now[23] == 'Z', "  its shape");

    /* the channel */
    parse("{\"recipients\":[\"u1\"],\"message\":\"x\"}");
    enc = rt_bus_encode(msg.to, "{\"a\":1}");
    UNIT_STR(enc, "{\"frame\":\"{\\\"a\\\":1}\",\"to\":[\"u1\"]}",
             "on the channel: the frame and its recipients");
    UNIT_INT(rt_bus_decode(enc, strlen(enc), &to, &got), 0, "  read back");
    UNIT_STR(got, "{\"a\":1}", "  the frame");
    UNIT_STR(json_string_value(json_array_get(to, 0)), "u1", "  the list");
    json_decref(to);
    free(got);
    free(enc);
    f = rt_bus_encode(NULL, "x");
    UNIT_STR(f, "{\"frame\":\"x\"}", "everyone: no list");
    free(f);
    UNIT_INT(rt_bus_decode("{\"to\":[]}", 9, &to, &got), -1,
             "no frame: not ours");
    UNIT_INT(rt_bus_decode("garbage", 7, &to, &got), -1, "garbage: not ours");
    UNIT_INT(rt_bus_decode("{\"frame\":\"x\",\"to\":\"u\"}", 22, &to, &got), -1,
             "a list that is no array: not ours");
    UNIT_INT(bus_decode("{\"to\":[1],\"frame\":\"x\"}"), -1,
             "a recipient that is no string: not ours");
    UNIT_INT(bus_decode("{\"to\":[\"u\",null],\"frame\":\"x\"}"), -1,
             "a null recipient: not ours");
    UNIT_INT(bus_decode("{\"to\":[\"u\",[\"v\"]],\"frame\":\"x\"}"), -1,
             "a nested list: not ours");
    memset(big, 'a', RT_ID_MAX);
    snprintf(big + RT_ID_MAX, sizeof(big) - RT_ID_MAX, "\"],\"frame\":\"x\"}");
    memcpy(line, "{\"to\":[\"", 8);
    snprintf(line + 8, sizeof(line) - 8, "%s", big);
    UNIT_INT(bus_decode(line), -1, "a recipient of RT_ID_MAX bytes: not ours");
    line[8 + RT_ID_MAX - 1] = '"';
    memmove(line + 8 + RT_ID_MAX - 1, line + 8 + RT_ID_MAX,
            strlen(line + 8 + RT_ID_MAX) + 1);
    UNIT_INT(bus_decode(line), 0, "  one byte shorter: ours");
    n = (size_t) snprintf(line, sizeof(line), "{\"frame\":\"x\",\"to\":[");
    for (i = 0; i < RT_RECIPIENTS_MAX + 1; i++) {
        n += (size_t) snprintf(line + n, sizeof(line) - n, "%s\"u%d\"",
                               i ? "," : "", i);
    }
    snprintf(line + n, sizeof(line) - n, "]}");
    UNIT_INT(bus_decode(line), -1, "101 recipients: not ours");

    /* the revocation feed */
    UNIT_INT(rt_revocation_sid("sid:abc-1 1767000000", 20, sid, sizeof(sid)), 0,
             "a revocation");
    UNIT_STR(sid, "abc-1", "  its session");
    UNIT_INT(rt_revocation_sid("sid:abc", 7, sid, sizeof(sid)), 0,
             "without exp");
    UNIT_STR(sid, "abc", "  its session");
    UNIT_INT(rt_revocation_sid("jti:abc 1", 9, sid, sizeof(sid)), -1,
             "not a session");
    UNIT_INT(rt_revocation_sid("sid: 1", 6, sid, sizeof(sid)), -1,
             "an empty session id");

    /* the welcome's name */
    rt_display_name("Ann", "A", "B", "a@x", name, sizeof(name));
    UNIT_STR(name, "Ann", "name first");
    rt_display_name("", "Bob", "Smith", "b@x", name, sizeof(name));
    UNIT_STR(name, "Bob Smith", "then first and last name");
    rt_display_name(NULL, NULL, "Smith", "b@x", name, sizeof(name));
    UNIT_STR(name, "Smith", "  either alone");
    rt_display_name(NULL, "", NULL, "c@x", name, sizeof(name));
    UNIT_STR(name, "c@x", "then the email");
    rt_msg_clear(&msg);
}


static void
test_registry(void)
{
    rt_registry_t reg;
    rt_conn_t     a, b, c;
    rt_out_t     *o;

    memset(&reg, 0, sizeof(reg));
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));
    strcpy(a.user, "u1");
    strcpy(b.user, "u1");
    strcpy(c.user, "u2");
    rt_reg_add(&reg, &a);
    rt_reg_add(&reg, &b);
    rt_reg_add(&reg, &c);
    UNIT_OK(a.id != 0 && a.id != b.id && b.id != c.id, "ids differ, never 0");
    UNIT_INT((int) reg.count, 3, "three linked");
    UNIT_INT((int) rt_reg_count_user(&reg, "u1"), 2, "two of u1");
    UNIT_OK(rt_reg_find(&reg, b.id) == &b, "found by id");
    rt_reg_remove(&reg, &b);
    UNIT_OK(rt_reg_find(&reg, b.id) == NULL, "a removed one is not found");
    rt_reg_remove(&reg, &b);
    UNIT_INT((int) reg.count, 2, "removing twice is harmless");
    UNIT_INT((int) rt_reg_count_user(&reg, "u1"), 1, "one of u1 left");
    rt_reg_add(&reg, &b);
    UNIT_OK(b.id > c.id, "an id is never reused");

    UNIT_INT(rt_reg_enqueue(&a, "12345", 5, 12), 0, "queued 5 of 12 bytes");
    UNIT_INT(rt_reg_enqueue(&a, "1234567", 7, 12), 0, "queued 12 of 12");
    UNIT_INT(rt_reg_enqueue(&a, "1", 1, 12), 1, "one more byte: too slow");
    UNIT_INT((int) a.queued, 12, "  nothing added");
    o = rt_reg_dequeue(&a);
    UNIT_OK(o != NULL && o->len == 5 &&
                memcmp(o->buf + rt_out_headroom, "12345", 5) == 0,
            "oldest first, after the headroom");
    free(o);
    UNIT_INT((int) a.queued, 7, "  the count follows");
    rt_reg_drop_queue(&a);
    UNIT_OK(a.out_head == NULL && a.out_tail == NULL && a.queued == 0,
            "dropped: empty");
    UNIT_OK(rt_reg_dequeue(&a) == NULL, "nothing to take");
}


static void
test_identity(void)
{
    long long exp = -1;

    UNIT_INT(rt_parse_exp("1767000000", &exp), 0, "exp: unix seconds");
    UNIT_OK(exp == 1767000000LL, "  its value");
    UNIT_INT(rt_parse_exp("", &exp), -1, "exp: empty");
    UNIT_INT(rt_parse_exp("-5", &exp), -1, "exp: a sign");
    UNIT_INT(rt_parse_exp("+5", &exp), -1, "exp: a plus sign");
    UNIT_INT(rt_parse_exp(" 5", &exp), -1, "exp: a space first");
    UNIT_INT(rt_parse_exp("5 ", &exp), -1, "exp: a space after");
    UNIT_INT(rt_parse_exp("0x10", &exp), -1, "exp: hex");
    UNIT_INT(rt_parse_exp("99999999999999999999", &exp), -1,
             "exp: out of range (ERANGE)");
    UNIT_INT(rt_parse_exp("9223372036854775", &exp), -1,
             "exp: would overflow in microseconds");
    UNIT_INT(rt_parse_exp("253402300799", &exp), 0, "exp: the year 9999");

    UNIT_OK(rt_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"), "a uuid");
    UNIT_OK(rt_is_uuid("0F8FAD5B-D9CB-469F-A165-70867728950E"),
            "  in capitals");
    UNIT_OK(!rt_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950"), "one short");
    UNIT_OK(!rt_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e0"), "one more");
    UNIT_OK(!rt_is_uuid("0f8fad5bxd9cb-469f-a165-70867728950e"), "no dash");
    UNIT_OK(!rt_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950g"), "not hex");
    UNIT_OK(!rt_is_uuid(""), "empty");
}


static void
test_revoked(void)
{
    const char *members[] = { "sid:s1", "jti:j1", "sid:",
                              NULL,     "sid:s2", "sid:s1" };
    const char *none[] = { "jti:j1" };
    json_t     *sids;

    sids = rt_revoked_sids(members, 6);
    UNIT_INT((int) json_object_size(sids), 2, "revoked: two sessions");
    UNIT_OK(json_object_get(sids, "s1") != NULL &&
                json_object_get(sids, "s2") != NULL,
            "  by their ids");
    json_decref(sids);
    UNIT_OK(rt_revoked_sids(none, 1) == NULL, "no session: nothing to do");
    UNIT_OK(rt_revoked_sids(NULL, 0) == NULL, "an empty set: nothing to do");
}


static void
test_inbox(void)
{
    int        i, n, closes;
    rt_item_t *it, *next;

    rt_inbox_init((struct lws_context *) &woken);
    for (i = 0; i < RT_INBOX_MESSAGES_MAX + 5; i++) {
        it = rt_item_new(RT_ITEM_TO_CONN);
        it->frame = strdup("x");
        rt_inbox_post(it);
    }
    for (i = 0; i < 3; i++) {
        it = rt_item_new(i == 2 ? RT_ITEM_JOB_DONE : RT_ITEM_CLOSE_SID);
        rt_inbox_post(it);
    }
    n = closes = 0;
    for (it = rt_inbox_take(); it != NULL; it = next) {
        next = it->next;
        n++;
        closes += it->kind != RT_ITEM_TO_CONN;
        rt_item_free(it);
    }
    UNIT_INT(n, RT_INBOX_MESSAGES_MAX + 3,
             "a full inbox drops the frames beyond its bound");
    UNIT_INT(closes, 3, "  never a close or a job's end");
    it = rt_item_new(RT_ITEM_TO_CONN);
    rt_inbox_post(it);
    it = rt_inbox_take();
    UNIT_OK(it != NULL && it->next == NULL, "taken: room again");
    rt_item_free(it);
    rt_inbox_close();
}


static void
test_jobs_queue(void)
{
    int       i, refused = 0;
    rt_job_t *j, *next;

    for (i = 0; i < RT_JOBS_MAX + 2; i++) {
        j = calloc(1, sizeof(*j));
        j->kind = RT_JOB_WELCOME;
        refused += rt_jobs_post(j) != 0;
    }
    UNIT_INT(refused, 2, "a full jobs queue refuses, and says so");
    j = calloc(1, sizeof(*j));
    j->kind = RT_JOB_STOP;
    UNIT_INT(rt_jobs_post(j), 0, "the stop is taken when full");
    UNIT_OK(rt_jobs_head == j, "  first, before the backlog");
    for (j = rt_jobs_head; j != NULL; j = next) {
        next = j->next;
        rt_job_free(j);
    }
    rt_jobs_head = rt_jobs_tail = NULL;
    rt_jobs_n = 0;
}


int
main(void)
{
    test_parse();
    test_frames();
    test_registry();
    test_identity();
    test_revoked();
    test_inbox();
    test_jobs_queue();
    return UNIT_DONE();
}
