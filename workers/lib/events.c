/*
 * events.c - notification jobs and identity events (see events.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "events.h"
#include "log.h"


void
id_event_now(char out[32])
{
    char            date[24];
    struct tm       tm;
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", date, (int) (now.tv_nsec / 1000000) % 1000);
}


/* The notify worker's public key: set once at start-up, read-only after. */
static unsigned char id_event_notify_pk[ID_BOX_KEY_LEN];
static int           id_event_notify_pk_set;


int
id_event_seal_init(const char *public_key, char *err, size_t errlen)
{
    if (id_crypto_box_key_parse(public_key, id_event_notify_pk) != 0) {
        snprintf(err, errlen,
                 "not an X25519 public key (%d characters of base64url, "
                 "as identity-keygen --alg X25519 writes)",
                 ID_BOX_KEY_B64_LEN);
        return -1;
    }
    id_event_notify_pk_set = 1;
    return 0;
}


int
id_event_secret_name(const char *name)
{
    static const char *const secret[] = { "otp",  "code",     "token",
                                          "link", "password", NULL };
    size_t                   i, n, len;

    len = strlen(name);
    for (i = 0; secret[i] != NULL; i++) {
        n = strlen(secret[i]);
        if (strcasecmp(name, secret[i]) == 0 ||
            (len > n + 1 && name[len - n - 1] == '_' &&
             strcasecmp(name + len - n, secret[i]) == 0)) {
            return 1;
        }
    }
    return 0;
}


/* Moves data's secret members into job.sealed; 0 ok (or none), -1 not. */
static int
id_event_seal_data(json_t *job, json_t *data)
{
    int         rc = -1;
    char       *text = NULL, *sealed = NULL;
    void       *tmp;
    json_t     *secret, *v;
    const char *name;

    secret = json_object();
    if (secret == NULL) {
        return -1;
    }
    json_object_foreach_safe(data, tmp, name, v)
    {
        if (id_event_secret_name(name)) {
            json_object_set(secret, name, v);
            json_object_del(data, name);
        }
    }
    if (json_object_size(secret) == 0) {
        rc = 0;
        goto done;
    }
    if (!id_event_notify_pk_set) {
        id_log_error("event.unsealed", "err",
                     "a job with a secret and no NOTIFY_PUBLIC_KEY", NULL);
        goto done;
    }
    text = json_dumps(secret, JSON_COMPACT);
    if (text == NULL) {
        goto done;
    }
    sealed = id_crypto_seal(id_event_notify_pk, text, strlen(text));
    OPENSSL_cleanse(text, strlen(text));
    if (sealed != NULL &&
        json_object_set_new(job, "sealed", json_string(sealed)) == 0) {
        rc = 0;
    }

done:

    free(text);
    free(sealed);
    json_decref(secret);
    return rc;
}


json_t *
id_event_job(const char *channel, const char *to, const char *template_name,
             json_t *data)
{
    char    uuid[ID_UUID_LEN + 1], now[32];
    json_t *job;

    if (id_crypto_uuid4(uuid) != 0) {
        json_decref(data);
        return NULL;
    }
    id_event_now(now);
    if (data == NULL) {
        data = json_object();
    }
    job = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "id", uuid, "type",
                    "notification", "channel", channel, "to", to, "template",
                    template_name, "data", data);
    if (job == NULL || id_event_seal_data(job, data) != 0 ||
        json_object_set_new(job, "created_at", json_string(now)) != 0) {
        json_decref(job);
        job = NULL;
    }
    json_decref(data);
    return job;
}


json_t *
id_event_identity(const char *type, const char *subject, json_t *data)
{
    char        uuid[ID_UUID_LEN + 1], now[32];
    const char *rid = id_log_request_id(), *ip = id_log_client_ip();
    json_t     *ev;

    if (id_crypto_uuid4(uuid) != 0) {
        json_decref(data);
        return NULL;
    }
    id_event_now(now);
    ev = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", uuid, "type", type,
                   "occurred_at", now, "subject", subject, "data",
                   data ? data : json_object());
    /* lets the audit trail join the event to the request's log lines */
    if (ev != NULL && rid[0] != '\0') {
        json_object_set_new(ev, "request_id", json_string(rid));
    }
    /* who did it from where: the audit trail keeps the client address */
    if (ev != NULL && ip[0] != '\0') {
        json_object_set_new(ev, "ip", json_string(ip));
    }
    return ev;
}
