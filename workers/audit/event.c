/*
 * event.c - one message of identity.events checked into a row (audit.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "json.h"


int
audit_uuid_valid(const char *s)
{
    size_t i;

    if (strlen(s) != 36) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        } else if (!((s[i] >= '0' && s[i] <= '9') ||
                     (s[i] >= 'a' && s[i] <= 'f') ||
                     (s[i] >= 'A' && s[i] <= 'F'))) {
            return 0;
        }
    }
    return 1;
}


/* n digits at s */
static int
audit_digits(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}


int
audit_time_valid(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS */
    if (strlen(s) < 20 || !audit_digits(s, 4) || s[4] != '-' ||
        !audit_digits(s + 5, 2) || s[7] != '-' || !audit_digits(s + 8, 2) ||
        (s[10] != 'T' && s[10] != 't') || !audit_digits(s + 11, 2) ||
        s[13] != ':' || !audit_digits(s + 14, 2) || s[16] != ':' ||
        !audit_digits(s + 17, 2)) {
        return 0;
    }
    s += 19;
    if (*s == '.') {
        s++;
        if (!audit_digits(s, 1)) {
            return 0;
        }
        while (*s >= '0' && *s <= '9') {
            s++;
        }
    }
    if (*s == 'Z' || *s == 'z') {
        return s[1] == '\0';
    }
    return (*s == '+' || *s == '-') && audit_digits(s + 1, 2) && s[3] == ':' &&
           audit_digits(s + 4, 2) && s[6] == '\0';
}


/* A string member of at most max characters without control characters,
 * else NULL. */
static const char *
audit_text(const json_t *root, const char *name, size_t max)
{
    json_t     *v = json_object_get(root, name);
    const char *s, *p;

    if (!json_is_string(v)) {
        return NULL;
    }
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v) || s[0] == '\0' ||
        id_json_utf8_len(s) > max) {
        return NULL;
    }
    for (p = s; *p != '\0'; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            return NULL;
        }
    }
    return s;
}


static int
audit_ip_valid(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}


int
audit_event_parse(const char *payload, size_t len, audit_event_t *ev, char *err,
                  size_t errlen)
{
    json_t      *data;
    json_error_t jerr;

    memset(ev, 0, sizeof(*ev));
    if (payload == NULL || len == 0) {
        snprintf(err, errlen, "empty message");
        return -1;
    }
    if (len > AUDIT_MAX_PAYLOAD) {
        snprintf(err, errlen, "larger than %d bytes", AUDIT_MAX_PAYLOAD);
        return -1;
    }
    ev->root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
    if (ev->root == NULL) {
        snprintf(err, errlen, "not JSON: %s", jerr.text);
        return -1;
    }
    if (!json_is_object(ev->root)) {
        snprintf(err, errlen, "not a JSON object");
        goto failed;
    }
    ev->event_id = audit_text(ev->root, "id", 36);
    if (ev->event_id == NULL || !audit_uuid_valid(ev->event_id)) {
        snprintf(err, errlen, "id: missing or not a UUID");
        goto failed;
    }
    ev->type = audit_text(ev->root, "type", AUDIT_TYPE_MAX);
    if (ev->type == NULL) {
        snprintf(err, errlen, "type: missing or not a short string");
        goto failed;
    }
    ev->occurred_at = audit_text(ev->root, "occurred_at", 64);
    if (ev->occurred_at == NULL || !audit_time_valid(ev->occurred_at)) {
        snprintf(err, errlen, "occurred_at: missing or not RFC 3339");
        goto failed;
    }
    ev->subject = audit_text(ev->root, "subject", AUDIT_TEXT_MAX);
    ev->request_id = audit_text(ev->root, "request_id", AUDIT_TEXT_MAX);
    ev->ip = audit_text(ev->root, "ip", AUDIT_TEXT_MAX);
    if (ev->ip != NULL && !audit_ip_valid(ev->ip)) {
        ev->ip = NULL;
    }
    data = json_object_get(ev->root, "data");
    ev->data = (data == NULL || json_is_null(data))
                   ? strdup("{}")
                   : json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY |
                                          JSON_PRESERVE_ORDER);
    if (ev->data == NULL) {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }
    return 0;

failed:

    audit_event_free(ev);
    return -1;
}


void
audit_event_free(audit_event_t *ev)
{
    json_decref(ev->root);
    free(ev->data);
    memset(ev, 0, sizeof(*ev));
}
