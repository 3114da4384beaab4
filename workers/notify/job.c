/*
 * job.c - notification job validation and the retry schedule.
 *
 * A job (produced by the auth worker and others, key = recipient):
 *   {"id":"<uuid>","type":"notification","channel":"email"|"sms",
 *    "to":"<address>","template":"<name>","data":{...},
 *    "created_at":"<RFC3339>"}
 * Unknown fields are ignored; "type" and "created_at" may be absent.
 * "sealed" (see events.h) holds the secret members of data, sealed to this
 * worker's key; jobs of other publishers may have none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "events.h"
#include "notify.h"


static int
notify_id_valid(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++, n++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.' ||
              *s == ':')) {
            return 0;
        }
    }
    return n >= 1 && n <= NOTIFY_ID_MAX;
}


int
notify_email_valid(const char *s)
{
    size_t      n, local;
    const char *at, *p, *label;

    n = strlen(s);
    at = strrchr(s, '@');
    if (n > 254 || at == NULL) {
        return 0;
    }
    local = (size_t) (at - s);
    if (local < 1 || local > 64 || s[0] == '.' || at[-1] == '.') {
        return 0;
    }
    /* local part: dot-atom only (no quoted strings, no comments) */
    for (p = s; p < at; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') ||
            strchr("!#$%&'*+-/=?^_`{|}~", *p) != NULL) {
            continue;
        }
        if (*p == '.' && p[1] != '.') {
            continue;
        }
        return 0;
    }
    /* domain: LDH labels of 1..63 characters, no domain literals */
    label = at + 1;
    for (p = label;; p++) {
        if (*p == '.' || *p == '\0') {
            if (p == label || p - label > 63 || *label == '-' || p[-1] == '-') {
                return 0;
            }
            if (*p == '\0') {
                return 1;
            }
            label = p + 1;
            continue;
        }
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-')) {
            return 0;
        }
    }
}


int
notify_phone_normalize(const char *s, char out[NOTIFY_PHONE_MAX + 1])
{
    size_t n = 0, digits = 0;

    while (*s == ' ') {
        s++;
    }
    if (*s == '+') {
        out[n++] = *s++;
    }
    for (; *s != '\0'; s++) {
        if (*s >= '0' && *s <= '9') {
            if (digits == 15) {
                return -1; /* E.164: at most 15 digits */
            }
            out[n++] = *s;
            digits++;
        } else if (strchr(" -.()", *s) == NULL) {
            return -1;
        }
    }
    out[n] = '\0';
    return digits >= 6 ? 0 : -1;
}


static const char *
notify_job_str(json_t *root, const char *name, char *err, size_t errlen)
{
    json_t *v;

    v = json_object_get(root, name);
    if (v == NULL || json_is_null(v)) {
        snprintf(err, errlen, "missing field: %s", name);
        return NULL;
    }
    if (!json_is_string(v)) {
        snprintf(err, errlen, "field %s is not a string", name);
        return NULL;
    }
    return json_string_value(v);
}


int
notify_job_parse(const char *payload, size_t len, notify_job_t *job, char *err,
                 size_t errlen)
{
    json_t      *v;
    const char  *s;
    json_error_t jerr;

    memset(job, 0, sizeof(*job));
    if (payload == NULL || len == 0) {
        snprintf(err, errlen, "empty message");
        return -1;
    }
    if (len > NOTIFY_MAX_PAYLOAD) {
        snprintf(err, errlen, "job larger than %d bytes", NOTIFY_MAX_PAYLOAD);
        return -1;
    }
    job->root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
    if (job->root == NULL) {
        /* not jerr.text: it quotes the input, which may hold an OTP */
        snprintf(err, errlen, "bad JSON at line %d column %d", jerr.line,
                 jerr.column);
        return -1;
    }
    if (!json_is_object(job->root)) {
        snprintf(err, errlen, "job is not a JSON object");
        goto bad;
    }

    s = notify_job_str(job->root, "id", err, errlen);
    if (s == NULL) {
        goto bad;
    }
    if (!notify_id_valid(s)) {
        snprintf(err, errlen, "bad id (1-%d of A-Z a-z 0-9 . _ : -)",
                 NOTIFY_ID_MAX);
        goto bad;
    }
    /* a copy: it outlives root when a later check fails */
    memcpy(job->id_buf, s, strlen(s) + 1);
    job->id = job->id_buf;

    v = json_object_get(job->root, "type");
    if (v != NULL && !(json_is_string(v) &&
                       strcmp(json_string_value(v), "notification") == 0)) {
        snprintf(err, errlen, "type is not \"notification\"");
        goto bad;
    }

    s = notify_job_str(job->root, "channel", err, errlen);
    if (s == NULL) {
        goto bad;
    }
    if (strcmp(s, "email") == 0) {
        job->channel = NOTIFY_EMAIL;
    } else if (strcmp(s, "sms") == 0) {
        job->channel = NOTIFY_SMS;
    } else {
        snprintf(err, errlen, "unknown channel (email, sms)");
        goto bad;
    }

    job->to = notify_job_str(job->root, "to", err, errlen);
    if (job->to == NULL) {
        goto bad;
    }
    if (job->channel == NOTIFY_SMS
            ? notify_phone_normalize(job->to, job->to_buf) != 0
            : !notify_email_valid(job->to)) {
        snprintf(err, errlen, "bad %s address in to",
                 job->channel == NOTIFY_EMAIL ? "email" : "phone");
        goto bad;
    }

    if (job->channel == NOTIFY_SMS) {
        job->to = job->to_buf;
    }

    job->tpl = notify_job_str(job->root, "template", err, errlen);
    if (job->tpl == NULL) {
        goto bad;
    }

    v = json_object_get(job->root, "data");
    if (v == NULL || json_is_null(v)) {
        v = json_object();
        json_object_set_new(job->root, "data", v); /* owned by root */
    } else if (!json_is_object(v)) {
        snprintf(err, errlen, "data is not an object");
        goto bad;
    }
    job->data = v;

    v = json_object_get(job->root, "created_at");
    job->created_at = json_is_string(v) ? json_string_value(v) : NULL;
    return 0;

bad:

    json_decref(job->root);
    job->root = NULL;
    job->to = NULL;
    job->tpl = NULL;
    job->data = NULL;
    job->created_at = NULL;
    return -1;
}


void
notify_job_free(notify_job_t *job)
{
    if (job == NULL) {
        return;
    }
    json_decref(job->root);
    memset(job, 0, sizeof(*job));
}


long
notify_backoff_ms(int attempt, long base_ms, long cap_ms)
{
    long d = base_ms;

    if (attempt < 1) {
        attempt = 1;
    }
    while (--attempt > 0 && d < cap_ms) {
        d *= 2;
    }
    return d < cap_ms ? d : cap_ms;
}


long
notify_backoff_jitter(long delay_ms, double jitter)
{
    if (jitter < 0 || jitter >= 1) {
        jitter = 0;
    }
    /* "equal jitter": at least half the delay, so a retry never comes
     * right back, and a random rest, so workers that failed together
     * spread out over the other half instead of retrying together */
    return delay_ms / 2 + (long) ((double) (delay_ms - delay_ms / 2) * jitter);
}


int
notify_keys_parse(const char *text, notify_keys_t *keys, char *err,
                  size_t errlen)
{
    char        line[256];
    size_t      n, lineno = 0;
    const char *p, *end;

    memset(keys, 0, sizeof(*keys));
    for (p = text; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
        end = strchr(p, '\n');
        if (end == NULL) {
            end = p + strlen(p);
        }
        lineno++;
        n = (size_t) (end - p);
        while (n > 0 && strchr(" \t\r", *p) != NULL) {
            p++;
            n--;
        }
        if (n == 0 || *p == '#') {
            continue;
        }
        if (keys->n == NOTIFY_MAX_KEYS) {
            snprintf(err, errlen, "more than %d keys", NOTIFY_MAX_KEYS);
            goto bad;
        }
        if (n >= sizeof(line)) {
            snprintf(err, errlen, "line %zu: not a key", lineno);
            goto bad;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        if (id_crypto_box_key_parse(line, keys->sk[keys->n]) != 0 ||
            id_crypto_box_public(keys->sk[keys->n], keys->pk[keys->n]) != 0) {
            OPENSSL_cleanse(line, sizeof(line));
            snprintf(err, errlen,
                     "line %zu: not an X25519 secret key (%d characters of "
                     "base64url)",
                     lineno, ID_BOX_KEY_B64_LEN);
            goto bad;
        }
        OPENSSL_cleanse(line, sizeof(line));
        keys->n++;
    }
    if (keys->n == 0) {
        snprintf(err, errlen, "no key in it");
        return -1;
    }
    return 0;

bad:

    notify_keys_wipe(keys);
    return -1;
}


void
notify_keys_wipe(notify_keys_t *keys)
{
    if (keys != NULL) {
        OPENSSL_cleanse(keys, sizeof(*keys));
    }
}


int
notify_job_unseal(notify_job_t *job, const notify_keys_t *keys, char *err,
                  size_t errlen)
{
    int            rc = -1;
    size_t         i, len = 0;
    json_t        *sealed, *secret = NULL;
    unsigned char *text = NULL;

    sealed = json_object_get(job->root, "sealed");
    if (sealed == NULL || json_is_null(sealed)) {
        return 0;
    }
    if (!json_is_string(sealed)) {
        snprintf(err, errlen, "sealed is not a string");
        return -1;
    }
    for (i = 0; i < keys->n; i++) {
        if (id_crypto_seal_open(keys->pk[i], keys->sk[i],
                                json_string_value(sealed), &text, &len) == 0) {
            break;
        }
    }
    if (i == keys->n) {
        snprintf(err, errlen,
                 "sealed data cannot be opened with this worker's keys");
        return -1;
    }
    secret = json_loadb((const char *) text, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(secret)) {
        snprintf(err, errlen, "sealed data is not a JSON object");
        goto done;
    }
    /* data is root's: the job's strings now include the secret ones */
    if (json_object_update((json_t *) job->data, secret) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rc = 0;

done:

    OPENSSL_cleanse(text, len);
    free(text);
    json_decref(secret);
    return rc;
}


static void
notify_redact_tree(json_t *v)
{
    size_t      i;
    void       *tmp;
    json_t     *m;
    const char *name;

    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, name, m)
        {
            if (id_event_secret_name(name)) {
                json_object_set_new(v, name, json_string("[redacted]"));
            } else {
                notify_redact_tree(m);
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m) { notify_redact_tree(m); }
    }
}


json_t *
notify_job_redact(const char *payload, size_t len)
{
    json_t *root, *data;

    root = payload != NULL && len > 0 && len <= NOTIFY_MAX_PAYLOAD
               ? json_loadb(payload, len, 0, NULL)
               : NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return json_pack("{s:s, s:I}", "redacted", "not a JSON object", "bytes",
                         (json_int_t) len);
    }
    data = json_object_get(root, "data");
    if (data != NULL && !json_is_object(data) && !json_is_null(data)) {
        json_object_set_new(root, "data", json_string("[redacted]"));
    }
    notify_redact_tree(root);
    return root;
}
