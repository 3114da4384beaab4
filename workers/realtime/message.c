/*
 * message.c - the frames: what a client may send, what it receives, and
 * what travels between processes on RT_CHANNEL.  Pure (no I/O).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "realtime.h"


void
rt_msg_clear(rt_msg_t *m)
{
    if (m == NULL) {
        return;
    }
    json_decref(m->to);
    free(m->text);
    m->to = NULL;
    m->text = NULL;
}


/* Copies the recipients, each a non-empty id string; de-duplicated so
 * that a user named twice gets the message once. */
static int
rt_msg_recipients(const json_t *list, json_t **out, char *detail, size_t dlen)
{
    size_t      i, j;
    json_t     *v, *to;
    const char *id;

    if (!json_is_array(list)) {
        snprintf(detail, dlen, "recipients must be an array of user ids");
        return -1;
    }
    if (json_array_size(list) > RT_RECIPIENTS_MAX) {
        snprintf(detail, dlen, "at most %d recipients", RT_RECIPIENTS_MAX);
        return -1;
    }
    *out = NULL;
    if (json_array_size(list) == 0) {
        return 0; /* everyone */
    }
    to = json_array();
    json_array_foreach(list, i, v)
    {
        id = json_string_value(v);
        if (id == NULL || id[0] == '\0' || strlen(id) >= RT_ID_MAX) {
            snprintf(detail, dlen, "recipients[%zu] is not a user id", i);
            json_decref(to);
            return -1;
        }
        for (j = 0; j < json_array_size(to); j++) {
            if (strcmp(json_string_value(json_array_get(to, j)), id) == 0) {
                break;
            }
        }
        if (j == json_array_size(to)) {
            json_array_append_new(to, json_string(id));
        }
    }
    *out = to;
    return 0;
}


int
rt_msg_parse(const char *data, size_t len, rt_msg_t *out, char *detail,
             size_t dlen)
{
    json_t      *root, *list, *to = NULL;
    const char  *text;
    json_error_t jerr;

    memset(out, 0, sizeof(*out));
    /* jansson refuses invalid UTF-8 and NUL bytes in strings */
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(detail, dlen, "not JSON: %s", jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(detail, dlen, "expected a JSON object");
        goto bad;
    }
    text = json_string_value(json_object_get(root, "message"));
    if (text == NULL || text[0] == '\0') {
        snprintf(detail, dlen, "message must be a non-empty string");
        goto bad;
    }
    list = json_object_get(root, "recipients");
    if (list == NULL) {
        /* seed 003's clients spell it so */
        list = json_object_get(root, "recepients");
    } else if (json_object_get(root, "recepients") != NULL) {
        snprintf(detail, dlen, "recipients given twice");
        goto bad;
    }
    if (list != NULL && !json_is_null(list) &&
        rt_msg_recipients(list, &to, detail, dlen) != 0) {
        goto bad;
    }
    out->text = strdup(text);
    if (out->text == NULL) {
        json_decref(to);
        snprintf(detail, dlen, "out of memory");
        goto bad;
    }
    out->to = to;
    json_decref(root);
    return 0;

bad:

    json_decref(root);
    return -1;
}


int
rt_parse_exp(const char *text, long long *out)
{
    char     *end;
    size_t    i;
    long long v;

    if (text == NULL || text[0] == '\0') {
        return -1;
    }
    for (i = 0; text[i] != '\0'; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return -1; /* no sign, space or 0x: strtoll would take them */
        }
    }
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno == ERANGE || *end != '\0' || v > RT_EXP_MAX) {
        return -1;
    }
    *out = v;
    return 0;
}


static char *
rt_dump(json_t *v)
{
    char *s;

    if (v == NULL) {
        return NULL;
    }
    s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    return s;
}


char *
rt_frame_message(const char *from, const char *text, const char *sent_at)
{
    return rt_dump(json_pack("{s:s, s:s, s:s, s:s}", "type", "message", "from",
                             from, "message", text, "sent_at", sent_at));
}


char *
rt_frame_welcome(const char *name, const char *sent_at)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "Welcome back, %s", name);
    return rt_dump(json_pack("{s:s, s:s, s:s, s:s}", "type", "system", "event",
                             "welcome", "message", msg, "sent_at", sent_at));
}


char *
rt_frame_error(const char *code, const char *detail, long retry_after_ms)
{
    json_t *v;

    v = json_pack("{s:s, s:s}", "type", "error", "code", code);
    if (v == NULL) {
        return NULL;
    }
    if (detail != NULL) {
        json_object_set_new(v, "detail", json_string(detail));
    }
    if (retry_after_ms >= 0) {
        json_object_set_new(v, "retry_after_ms", json_integer(retry_after_ms));
    }
    return rt_dump(v);
}


char *
rt_bus_encode(const json_t *to, const char *frame)
{
    json_t *v;

    v = json_pack("{s:s}", "frame", frame);
    if (v != NULL && to != NULL) {
        json_object_set_new(v, "to", json_deep_copy(to));
    }
    return rt_dump(v);
}


/* What rt_ws_wanted() compares each socket's user with: an array of at
 * most RT_RECIPIENTS_MAX strings, each shorter than RT_ID_MAX.  Anyone who
 * can PUBLISH on the channel writes it, and one element that is no string
 * would reach strcmp() as NULL on every process. */
static int
rt_bus_list_ok(const json_t *list)
{
    size_t      i;
    json_t     *v;
    const char *id;

    if (!json_is_array(list) || json_array_size(list) > RT_RECIPIENTS_MAX) {
        return 0;
    }
    json_array_foreach(list, i, v)
    {
        id = json_string_value(v);
        if (id == NULL || strlen(id) >= RT_ID_MAX) {
            return 0;
        }
    }
    return 1;
}


int
rt_bus_decode(const char *text, size_t len, json_t **to, char **frame)
{
    json_t     *root, *list;
    const char *f;

    *to = NULL;
    *frame = NULL;
    root = json_loadb(text, len, 0, NULL);
    f = json_string_value(json_object_get(root, "frame"));
    list = json_object_get(root, "to");
    if (f == NULL || (list != NULL && !rt_bus_list_ok(list))) {
        json_decref(root);
        return -1;
    }
    *frame = strdup(f);
    if (list != NULL) {
        *to = json_incref(list);
    }
    json_decref(root);
    if (*frame == NULL) {
        json_decref(*to);
        *to = NULL;
        return -1;
    }
    return 0;
}


int
rt_revocation_sid(const char *text, size_t len, char *sid, size_t sidlen)
{
    size_t n;

    if (len < 5 || memcmp(text, "sid:", 4) != 0) {
        return -1;
    }
    text += 4;
    len -= 4;
    for (n = 0; n < len && text[n] != ' '; n++) {
        /* the session id ends at the space before exp */
    }
    if (n == 0 || n >= sidlen) {
        return -1;
    }
    memcpy(sid, text, n);
    sid[n] = '\0';
    return 0;
}


json_t *
rt_revoked_sids(const char *const *members, size_t n)
{
    size_t  i;
    json_t *sids = json_object();

    for (i = 0; sids != NULL && i < n; i++) {
        /* "sid:<sid>" (sessions.h); other members are not sessions */
        if (members[i] != NULL && strncmp(members[i], "sid:", 4) == 0 &&
            members[i][4] != '\0' && strlen(members[i] + 4) < RT_ID_MAX) {
            json_object_set_new(sids, members[i] + 4, json_true());
        }
    }
    if (sids != NULL && json_object_size(sids) == 0) {
        json_decref(sids);
        sids = NULL;
    }
    return sids;
}


int
rt_is_uuid(const char *text)
{
    size_t i;

    if (strlen(text) != 36) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') {
                return 0;
            }
        } else if (!((text[i] >= '0' && text[i] <= '9') ||
                     (text[i] >= 'a' && text[i] <= 'f') ||
                     (text[i] >= 'A' && text[i] <= 'F'))) {
            return 0;
        }
    }
    return 1;
}


void
rt_display_name(const char *name, const char *first, const char *last,
                const char *email, char *out, size_t outlen)
{
    int hf = first != NULL && first[0] != '\0';
    int hl = last != NULL && last[0] != '\0';

    if (name != NULL && name[0] != '\0') {
        snprintf(out, outlen, "%s", name);
    } else if (hf || hl) {
        snprintf(out, outlen, "%s%s%s", hf ? first : "", hf && hl ? " " : "",
                 hl ? last : "");
    } else {
        snprintf(out, outlen, "%s", email != NULL ? email : "");
    }
}
