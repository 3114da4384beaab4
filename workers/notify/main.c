/*
 * identity-notify - sends the notification jobs of identity.notifications
 * (group identity-notify) by email (MAIL_PROVIDER: SMTP, or a SendGrid
 * style HTTP API) or SMS (SMS_PROVIDER: a webhook, or a Twilio style API).
 * Each provider keeps one libcurl handle, so its connection is reused.
 *
 * Delivery is once per job: a job's offset is committed only after it was
 * sent, found already sent, or parked on identity.notifications.dlq with
 * the reason; a job is claimed in Redis before its send (dedupe.c), so a
 * redelivered job, or one a rebalance handed to another process while
 * this one sends it, is not sent twice.  A transient failure (SMTP down, 4xx,
 * timeout) sends the job back to its partition with exponential backoff (the
 * partition waits, the others go on) until NOTIFY_MAX_ATTEMPTS, then
 * dead-letters it; a poison job (bad JSON, missing field, unknown template,
 * permanent 5xx) is dead-lettered at once.  One log line per job: id, template,
 * outcome; never the address, the code or the text.
 *
 * With LISTEN set, /health/live and /health/ready are served (PostgreSQL,
 * Redis and Kafka checked), and the notification API (api.c): POST
 * /api/v1/notifications/email and /sms write jobs to the outbox
 * (DATABASE_URL, required with LISTEN), which the other workers' relays
 * publish and this loop sends.  The loop itself never touches PostgreSQL:
 * it sends with PostgreSQL away, and without LISTEN needs no DATABASE_URL.
 * SIGINT/SIGTERM finish the current job, stop the HTTP server (in-flight
 * requests finish), leave the group and exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "config.h"
#include "crypto.h"
#include "env.h"
#include "health.h"
#include "http.h"
#include "kafka.h"
#include "log.h"
#include "notify.h"
#include "serve.h"

#define NOTIFY_POLL_MS 500       /* also the shutdown latency between jobs */
#define NOTIFY_DLQ_TIMEOUT 10000 /* ms to wait for the DLQ ack */
#define NOTIFY_LAG_EVERY_MS 1000 /* how often the metrics' lag is updated */
/* A job's claim outlives its send (NOTIFY_PROVIDER_TIMEOUT_MS) by this
 * much: the time to write "done" to Redis after the provider accepted. */
#define NOTIFY_CLAIM_MARGIN_MS 5000
/* how often a job claimed by another process is looked at again */
#define NOTIFY_BUSY_MIN_MS 100
#define NOTIFY_BUSY_MAX_MS 1000


static const id_conf_spec_t notify_specs[] = {
    ID_ENV_KAFKA_BROKERS,
    { "KAFKA_GROUP_ID", ID_CONF_STRING, 0, 0, NOTIFY_GROUP, 0, 0,
      "consumer group of the notification workers" },
    ID_KAFKA_CONSUMER_SPECS,
    ID_KAFKA_CONF_SPECS,
    ID_ENV_REDIS_URL,
    { "NOTIFY_SECRET_KEY_FILE", ID_CONF_STRING, 1, 0, NULL, 0, 0,
      "file with the X25519 secret key that opens the jobs' sealed codes "
      "(identity-keygen --alg X25519; mode 0600), one key a line, current "
      "first" },
    { "NOTIFY_TOPIC", ID_CONF_STRING, 0, 0, NOTIFY_TOPIC, 0, 0,
      "Kafka topic the jobs are consumed from" },
    { "NOTIFY_DLQ_TOPIC", ID_CONF_STRING, 0, 0, NOTIFY_DLQ_TOPIC, 0, 0,
      "Kafka topic poison and given-up jobs are parked on" },
    { "MAIL_PROVIDER", ID_CONF_STRING, 0, 0, "smtp", 0, 0,
      "how email leaves: smtp (SMTP_URL) or sendgrid (SENDGRID_API_KEY)" },
    { "SMTP_URL", ID_CONF_STRING, 0, 0, NULL, 0, 0,
      "smtps://host:port, or smtp://host:port with SMTP_STARTTLS (plain "
      "only on loopback); required with MAIL_PROVIDER=smtp" },
    { "SMTP_STARTTLS", ID_CONF_BOOL, 0, 0, "false", 0, 0,
      "smtp:// must upgrade with STARTTLS (required unless the server is "
      "on loopback; always when SMTP_USERNAME is set)" },
    { "SMTP_USERNAME", ID_CONF_STRING, 0, 0, NULL, 0, 0,
      "SMTP AUTH user; unset: no AUTH" },
    { "SMTP_PASSWORD", ID_CONF_STRING, 0, 1, NULL, 0, 0, "SMTP AUTH password" },
    { "SMTP_CA_FILE", ID_CONF_STRING, 0, 0, NULL, 0, 0,
      "PEM file of the CA(s) that sign the SMTP server's certificate (a "
      "private relay); unset: the system's CAs" },
    { "MAIL_FROM", ID_CONF_STRING, 1, 0, NULL, 0, 0,
      "sender, \"Name <address>\" or \"address\"" },
    { "MAIL_LIST_UNSUBSCRIBE", ID_CONF_STRING, 0, 0, NULL, 0, 0,
      "mailto: and/or https:// URIs, comma-separated: the List-Unsubscribe "
      "of the templates that ask for it; unset: no such header" },
    { "NOTIFY_SHIPPED_TEMPLATE_DIR", ID_CONF_STRING, 0, 0,
      "/usr/share/identity/notify-templates", 0, 0,
      "the shipped templates (workers/notify/templates/*.tpl)" },
    { "NOTIFY_TEMPLATE_DIR", ID_CONF_STRING, 0, 0, NULL, 0, 0,
      "the deployment's own NAME.tpl templates, adding to or replacing the "
      "shipped ones; unset: none" },
    { "SENDGRID_API_URL", ID_CONF_STRING, 0, 0,
      "https://api.sendgrid.com/v3/mail/send", 0, 0,
      "SendGrid v3 mail/send endpoint (https://, or http:// on loopback)" },
    { "SENDGRID_API_KEY", ID_CONF_STRING, 0, 1, NULL, 0, 0,
      "SendGrid API key (Bearer); required with MAIL_PROVIDER=sendgrid" },
    { "SMS_PROVIDER", ID_CONF_STRING, 0, 0, "webhook", 0, 0,
      "how SMS leave: webhook (SMS_WEBHOOK_URL) or twilio (TWILIO_*)" },
    { "TWILIO_API_URL", ID_CONF_STRING, 0, 0, "https://api.twilio.com", 0, 0,
      "base URL of the Twilio API (https://, or http:// on loopback); "
      "messages go to /2010-04-01/Accounts/SID/Messages.json under it" },
    { "TWILIO_ACCOUNT_SID", ID_CONF_STRING, 0, 0, NULL, 0, 0,
      "Twilio account SID (basic auth user); required with "
      "SMS_PROVIDER=twilio" },
    { "TWILIO_AUTH_TOKEN", ID_CONF_STRING, 0, 1, NULL, 0, 0,
      "Twilio auth token (basic auth password)" },
    { "TWILIO_FROM", ID_CONF_STRING, 0, 0, NULL, 0, 0,
      "sender: a Twilio phone number (+E.164) or a messaging service SID" },
    { "NOTIFY_PROVIDER_TIMEOUT_MS", ID_CONF_INT, 0, 0, "30000", 100, 600000,
      "longest wait for one send: an SMTP transaction or an HTTP provider "
      "request (a timeout is transient)" },
    { "SMS_WEBHOOK_URL", ID_CONF_STRING, 0, 0, NULL, 0, 0,
      "http(s) URL receiving POST {to,text}; unset: SMS jobs are "
      "dead-lettered" },
    { "SMS_WEBHOOK_TOKEN", ID_CONF_STRING, 0, 1, NULL, 0, 0,
      "bearer token for SMS_WEBHOOK_URL" },
    { "NOTIFY_MAX_ATTEMPTS", ID_CONF_INT, 0, 0, "10", 0, 1000,
      "sends of a job before it is dead-lettered (0: retry forever)" },
    { "NOTIFY_BACKOFF_BASE_MS", ID_CONF_INT, 0, 0, "1000", 10, 3600000,
      "delay after the first failed attempt, doubled after each" },
    { "NOTIFY_BACKOFF_MAX_MS", ID_CONF_INT, 0, 0, "60000", 10, 86400000,
      "longest delay between attempts" },
    { "NOTIFY_BREAKER_THRESHOLD", ID_CONF_INT, 0, 0, "5", 0, 1000,
      "transient failures in a row that open a provider's circuit breaker "
      "(0: never opens)" },
    { "NOTIFY_BREAKER_COOLDOWN_MS", ID_CONF_INT, 0, 0, "30000", 100, 3600000,
      "how long an open breaker holds the provider's jobs before one probe "
      "goes out" },
    { "LISTEN", ID_CONF_STRING, 0, 0, NULL, 0, 0,
      "unix:/path or 127.0.0.1:PORT for the notification API and "
      "/health/live, /health/ready; unset: no HTTP" },
    { "DATABASE_URL", ID_CONF_STRING, 0, 1, NULL, 0, 0,
      "PostgreSQL conninfo or URI, required with LISTEN: the notification "
      "API writes its jobs to the outbox" },
    ID_ENV_LISTEN_MODE,
    ID_ENV_TRUSTED_PEER_UIDS,
    ID_ENV_TRUSTED_PEER_GIDS,
    ID_ENV_IDENTITY_SIGN_KEY_FILE,
    ID_ENV_IDENTITY_SIGN_MAX_AGE,
    { "HTTP_THREADS", ID_CONF_INT, 0, 0, "2", 1, 256,
      "HTTP worker threads (each writes one job to PostgreSQL at a time)" },
    /* the API's text is up to 5000 characters of up to 4 bytes each */
    { "MAX_BODY_BYTES", ID_CONF_INT, 0, 0, "32768", 256, 10485760,
      "largest accepted request body in bytes (413 beyond)" },
};


typedef struct {
    id_kafka_consumer_t *consumer;
    id_kafka_producer_t *dlq;
    notify_keys_t        keys;
    notify_mail_conf_t   mail;
    notify_templates_t  *templates;
    const char          *sms_url;
    const char          *sms_token;
    const char          *dlq_topic;
    notify_providers_t   pv;
    notify_conn_t        mail_conn; /* kept across jobs: connection reuse */
    notify_conn_t        sms_conn;
    notify_breaker_t     mail_breaker; /* of the MAIL_PROVIDER */
    notify_breaker_t     sms_breaker;  /* of the SMS_PROVIDER */
    notify_metrics_t     metrics;
    char                 token[NOTIFY_TOKEN_MAX]; /* this process's claims */
    long                 lease_ms;                /* how long a claim holds */
    long                 max_attempts;
    long                 backoff_base;
    long                 backoff_max;
} notify_ctx_t;


/* What happened to one job, for its log line. */
typedef struct {
    const char *id;
    const char *tpl;
    const char *channel;
    const char *provider;
    const char *outcome;
    const char *error;
    long        delay_ms;
} notify_report_t;


static const char *
notify_opt(const id_conf_t *conf, const char *name)
{
    const char *v = id_conf_str(conf, name);

    return (v != NULL && v[0] != '\0') ? v : NULL;
}


/* Reads the secret keys of path into keys; 0 ok, -1 (reason in err). */
static int
notify_keys_load(const char *path, notify_keys_t *keys, char *err,
                 size_t errlen)
{
    int         rc;
    char        text[4096];
    size_t      n;
    FILE       *f;
    struct stat st;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    n = fread(text, 1, sizeof(text) - 1, f);
    if (ferror(f) || !feof(f)) {
        fclose(f);
        snprintf(err, errlen, "%s: cannot read (or larger than %zu bytes)",
                 path, sizeof(text) - 1);
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077) != 0) {
        id_log_warn("notify.key_file_mode", "path", path, "hint",
                    "readable by others than its owner: chmod 600", NULL);
    }
    fclose(f);
    text[n] = '\0';
    rc = notify_keys_parse(text, keys, err, errlen);
    OPENSSL_cleanse(text, sizeof(text));
    return rc;
}


static int64_t
notify_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* host/pid/random: unique to this process among every notify process. */
static int
notify_claim_token(char *out, size_t size)
{
    char          host[64];
    unsigned char rnd[8];

    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(host, sizeof(host), "localhost");
    }
    host[sizeof(host) - 1] = '\0';
    if (id_crypto_random(rnd, sizeof(rnd)) != 0) {
        return -1;
    }
    snprintf(out, size, "%s/%ld/%02x%02x%02x%02x%02x%02x%02x%02x", host,
             (long) getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
             rnd[6], rnd[7]);
    return 0;
}


static const char *
notify_provider_name(const notify_ctx_t *nc, notify_channel_t channel)
{
    if (channel == NOTIFY_EMAIL) {
        return nc->pv.mail == NOTIFY_MAIL_SENDGRID ? "sendgrid" : "smtp";
    }
    return nc->pv.sms == NOTIFY_SMS_TWILIO ? "twilio" : "webhook";
}


/*
 * MAIL_PROVIDER, SMS_PROVIDER and what each needs, into nc (SMTP's own
 * settings are read by main).  Every problem is reported; 0 ok, -1 not.
 */
static int
notify_providers_load(notify_ctx_t *nc, const id_conf_t *conf)
{
    int                 rc = 0;
    const char         *mail, *sms, *v;
    notify_providers_t *pv = &nc->pv;

    mail = id_conf_str(conf, "MAIL_PROVIDER");
    sms = id_conf_str(conf, "SMS_PROVIDER");
    pv->timeout_ms = id_conf_int(conf, "NOTIFY_PROVIDER_TIMEOUT_MS");
    nc->mail.timeout_ms = pv->timeout_ms;
    if (strcmp(mail, "smtp") == 0) {
        pv->mail = NOTIFY_MAIL_SMTP;
        if (notify_opt(conf, "SMTP_URL") == NULL) {
            fprintf(stderr, "config: SMTP_URL: required with "
                            "MAIL_PROVIDER=smtp\n");
            rc = -1;
        }
    } else if (strcmp(mail, "sendgrid") == 0) {
        pv->mail = NOTIFY_MAIL_SENDGRID;
        pv->sendgrid_url = id_conf_str(conf, "SENDGRID_API_URL");
        pv->sendgrid_key = notify_opt(conf, "SENDGRID_API_KEY");
        if (!notify_https_policy(pv->sendgrid_url)) {
            fprintf(stderr, "config: SENDGRID_API_URL: want https:// "
                            "(http:// only on loopback)\n");
            rc = -1;
        }
        if (pv->sendgrid_key == NULL) {
            fprintf(stderr, "config: SENDGRID_API_KEY: required with "
                            "MAIL_PROVIDER=sendgrid\n");
            rc = -1;
        }
    } else {
        fprintf(stderr, "config: MAIL_PROVIDER: want smtp or sendgrid\n");
        rc = -1;
    }

    if (strcmp(sms, "webhook") == 0) {
        pv->sms = NOTIFY_SMS_WEBHOOK;
    } else if (strcmp(sms, "twilio") == 0) {
        pv->sms = NOTIFY_SMS_TWILIO;
        pv->twilio_sid = notify_opt(conf, "TWILIO_ACCOUNT_SID");
        pv->twilio_token = notify_opt(conf, "TWILIO_AUTH_TOKEN");
        pv->twilio_from = notify_opt(conf, "TWILIO_FROM");
        v = id_conf_str(conf, "TWILIO_API_URL");
        if (!notify_https_policy(v)) {
            fprintf(stderr, "config: TWILIO_API_URL: want https:// "
                            "(http:// only on loopback)\n");
            rc = -1;
        }
        if (pv->twilio_sid == NULL ||
            strspn(pv->twilio_sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789") !=
                strlen(pv->twilio_sid)) {
            fprintf(stderr, "config: TWILIO_ACCOUNT_SID: required with "
                            "SMS_PROVIDER=twilio, letters and digits\n");
            rc = -1;
        }
        if (pv->twilio_token == NULL) {
            fprintf(stderr, "config: TWILIO_AUTH_TOKEN: required with "
                            "SMS_PROVIDER=twilio\n");
            rc = -1;
        }
        if (pv->twilio_from == NULL) {
            fprintf(stderr, "config: TWILIO_FROM: required with "
                            "SMS_PROVIDER=twilio\n");
            rc = -1;
        }
        if (rc == 0) {
            pv->twilio_url = notify_twilio_url(v, pv->twilio_sid);
            if (pv->twilio_url == NULL) {
                rc = -1;
            }
        }
    } else {
        fprintf(stderr, "config: SMS_PROVIDER: want webhook or twilio\n");
        rc = -1;
    }
    return rc;
}


static void
notify_log_job(const id_kafka_msg_t *m, const notify_report_t *rep,
               int64_t started)
{
    char            part[16], off[32], att[16], delay[32], ms[32];
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(part, sizeof(part), "%d", (int) m->partition);
    snprintf(off, sizeof(off), "%lld", (long long) m->offset);
    snprintf(att, sizeof(att), "%d", m->attempt);
    snprintf(delay, sizeof(delay), "%ld", rep->delay_ms);
    snprintf(ms, sizeof(ms), "%lld",
             (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - started);
    id_log_write(strcmp(rep->outcome, "sent") == 0 ||
                         strcmp(rep->outcome, "duplicate") == 0
                     ? "info"
                     : "warn",
                 "notify.job", "id", rep->id, "template", rep->tpl, "channel",
                 rep->channel, "provider", rep->provider, "outcome",
                 rep->outcome, "attempt", att, "partition", part, "offset", off,
                 "ms", ms, "error", rep->error, "retry_in_ms",
                 strcmp(rep->outcome, "retry") == 0 ||
                         strcmp(rep->outcome, "held") == 0
                     ? delay
                     : NULL,
                 NULL);
}


static void
notify_retry(notify_ctx_t *nc, const id_kafka_msg_t *m, notify_report_t *rep)
{
    long d;

    d = notify_backoff_ms(m->attempt, nc->backoff_base, nc->backoff_max);
    d = notify_backoff_jitter(d, (double) random() / ((double) RAND_MAX + 1));
    rep->delay_ms = d;
    if (id_kafka_consumer_retry(nc->consumer, m, (int) d) != 0) {
        /* still uncommitted: comes back after a restart or rebalance */
        rep->outcome = "retry_failed";
        return;
    }
    rep->outcome = "retry";
}


/*
 * Parks m on the DLQ: {"error","failed_at","attempts","job_id","template",
 * "source":{"topic","partition","offset"},"payload"}, key kept, payload
 * redacted (notify_job_redact: no code or token in clear on any topic).
 * Commits once the DLQ acked; else the job is retried later.
 */
static void
notify_dead_letter(notify_ctx_t *nc, const id_kafka_msg_t *m,
                   const notify_job_t *job, const char *reason,
                   notify_report_t *rep)
{
    char      now[32], *key = NULL, *out = NULL;
    json_t   *o;
    time_t    t;
    struct tm tm;

    t = time(NULL);
    gmtime_r(&t, &tm);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);

    o = json_pack("{s:s, s:s, s:i, s:s?, s:s?, s:{s:s, s:i, s:I}}", "error",
                  reason, "failed_at", now, "attempts", m->attempt, "job_id",
                  job != NULL ? job->id : NULL, "template",
                  job != NULL ? job->tpl : NULL, "source", "topic", m->topic,
                  "partition", (int) m->partition, "offset",
                  (json_int_t) m->offset);
    /* the job as it came but for its secrets; NULL fails like ENOMEM */
    if (o != NULL &&
        json_object_set_new(o, "payload",
                            notify_job_redact(m->payload, m->len)) != 0) {
        json_decref(o);
        o = NULL;
    }
    out = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    if (m->key != NULL && m->key_len > 0) {
        key = strndup(m->key, m->key_len);
    }

    rep->error = reason;
    if (out != NULL && id_kafka_produce(nc->dlq, nc->dlq_topic, key, out,
                                        strlen(out), NOTIFY_DLQ_TIMEOUT) == 0) {
        id_kafka_commit(nc->consumer, m);
        rep->outcome = "dead_lettered";
    } else {
        notify_retry(nc, m, rep);
        rep->error = "dead-letter topic unavailable";
    }
    json_decref(o);
    free(out);
    free(key);
}


static void
notify_handle(notify_ctx_t *nc, const id_kafka_msg_t *m)
{
    int               rc;
    char              err[512], gaveup[600], *message;
    long              wait;
    double            age;
    notify_breaker_t *br;
    int64_t           started;
    notify_job_t      job;
    notify_result_t   res;
    struct timespec   ts;
    notify_report_t   rep = { NULL, NULL, NULL, NULL, NULL, NULL, 0 };
    notify_rendered_t r = { NULL, NULL, NULL, NULL, 0 };

    clock_gettime(CLOCK_MONOTONIC, &ts);
    started = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

    if (notify_job_parse(m->payload, m->len, &job, err, sizeof(err)) != 0) {
        id_log_set_request_id(job.id);
        rep.id = job.id; /* if the id itself was fine */
        notify_dead_letter(nc, m, &job, err, &rep);
        notify_log_job(m, &rep, started);
        notify_metrics_job(&nc->metrics, NULL, NULL, rep.outcome);
        id_log_set_request_id(NULL);
        return;
    }
    id_log_set_request_id(job.id);
    rep.id = job.id;
    rep.tpl = job.tpl;
    rep.channel = job.channel == NOTIFY_EMAIL ? "email" : "sms";
    rep.provider = notify_provider_name(nc, job.channel);

    if (notify_job_unseal(&job, &nc->keys, err, sizeof(err)) != 0) {
        notify_dead_letter(nc, m, &job, err, &rep);
        goto done;
    }
    rc = notify_render(nc->templates, job.tpl, job.channel, job.data, &r, err,
                       sizeof(err));
    if (rc != 0) {
        notify_dead_letter(nc, m, &job, err, &rep);
        goto done;
    }
    if (job.channel == NOTIFY_SMS && nc->pv.sms == NOTIFY_SMS_WEBHOOK &&
        nc->sms_url == NULL) {
        id_log_warn("sms.unconfigured", "id", job.id, NULL);
        notify_dead_letter(nc, m, &job, "SMS_WEBHOOK_URL is not set", &rep);
        goto done;
    }

    br = job.channel == NOTIFY_EMAIL ? &nc->mail_breaker : &nc->sms_breaker;
    rc = notify_breaker_allow(br, notify_now_ms(), &wait);
    notify_metrics_breaker(&nc->metrics, job.channel, br->state);
    if (!rc) {
        /* the provider is down: the job waits for the breaker's probe,
         * without a send and without using up an attempt */
        rep.delay_ms = wait;
        rep.outcome = id_kafka_consumer_hold(nc->consumer, m, (int) wait) == 0
                          ? "held"
                          : "retry_failed";
        rep.error = "circuit breaker open";
        goto done;
    }

    switch (notify_dedupe_claim(job.id, nc->token, nc->lease_ms, &wait)) {
    case NOTIFY_CLAIM_DONE:
        id_kafka_commit(nc->consumer, m);
        rep.outcome = "duplicate";
        goto done;
    case NOTIFY_CLAIM_BUSY:
        /* another process sends it (a rebalance moved the partition), or
         * died sending it: look again when its claim ends */
        wait = wait < NOTIFY_BUSY_MIN_MS   ? NOTIFY_BUSY_MIN_MS
               : wait > NOTIFY_BUSY_MAX_MS ? NOTIFY_BUSY_MAX_MS
                                           : wait;
        rep.delay_ms = wait;
        rep.outcome = id_kafka_consumer_hold(nc->consumer, m, (int) wait) == 0
                          ? "held"
                          : "retry_failed";
        rep.error = "claimed by another notify process";
        goto done;
    case NOTIFY_CLAIM_UNKNOWN:
        /* at least once: sending twice beats not sending */
        id_log_warn("notify.dedupe_unavailable", "id", job.id, NULL);
        break;
    case NOTIFY_CLAIMED:
        break;
    }

    err[0] = '\0';
    if (job.channel == NOTIFY_EMAIL && nc->pv.mail == NOTIFY_MAIL_SENDGRID) {
        res = notify_sendgrid_send(&nc->mail_conn, &nc->pv, &nc->mail, &job, &r,
                                   err, sizeof(err));
    } else if (job.channel == NOTIFY_EMAIL) {
        message = notify_mail_build(&nc->mail, &job, &r, time(NULL));
        if (message == NULL) {
            snprintf(err, sizeof(err), "out of memory");
            res = NOTIFY_TRANSIENT;
        } else {
            res = notify_smtp_send(&nc->mail_conn, &nc->mail, job.to, message,
                                   err, sizeof(err));
            free(message);
        }
    } else if (nc->pv.sms == NOTIFY_SMS_TWILIO) {
        res = notify_twilio_send(&nc->sms_conn, &nc->pv, job.to, r.text, err,
                                 sizeof(err));
    } else {
        res = notify_sms_send(&nc->sms_conn, nc->sms_url, nc->sms_token, job.to,
                              r.text, err, sizeof(err));
    }

    rc = notify_breaker_result(br, res, notify_now_ms());
    notify_metrics_breaker(&nc->metrics, job.channel, br->state);
    if (rc) {
        id_log_write(br->state == NOTIFY_BREAKER_CLOSED ? "info" : "warn",
                     "notify.breaker", "provider", rep.provider, "state",
                     notify_breaker_state_name(br), NULL);
    }

    switch (res) {
    case NOTIFY_SENT:
        if (notify_dedupe_done(job.id) != 0) {
            id_log_warn("notify.dedupe_mark_failed", "id", job.id, NULL);
        }
        id_kafka_commit(nc->consumer, m);
        rep.outcome = "sent";
        clock_gettime(CLOCK_REALTIME, &ts);
        age = notify_job_age(job.created_at, &ts);
        if (age >= 0) {
            notify_metrics_delivered(&nc->metrics, job.channel, age);
        }
        break;
    case NOTIFY_PERMANENT:
        notify_dedupe_release(job.id, nc->token);
        notify_dead_letter(nc, m, &job, err, &rep);
        break;
    case NOTIFY_TRANSIENT:
        notify_dedupe_release(job.id, nc->token);
        if (nc->max_attempts > 0 && m->attempt >= nc->max_attempts) {
            snprintf(gaveup, sizeof(gaveup), "gave up after %d attempts: %s",
                     m->attempt, err);
            notify_dead_letter(nc, m, &job, gaveup, &rep);
            break;
        }
        rep.error = err;
        notify_retry(nc, m, &rep);
        break;
    }

done:

    notify_log_job(m, &rep, started);
    notify_metrics_job(&nc->metrics, rep.channel, rep.provider, rep.outcome);
    notify_rendered_free(&r);
    notify_job_free(&job);
    id_log_set_request_id(NULL);
}


int
main(void)
{
    int                      rc = 1, sig, prc;
    char                     err[512], tplcount[32];
    sigset_t                 sigs;
    id_conf_t               *conf;
    const char              *topics[1], *smtp, *listen;
    id_kafka_msg_t          *m;
    id_health_t              health;
    notify_ctx_t             nc;
    notify_api_t             api;
    id_serve_t              *http = NULL;
    struct timespec          zero = { 0, 0 };
    id_kafka_consumer_conf_t cf;
    int64_t                  lag = 0, lag_at = 0;

    static const id_http_route_t routes[] = {
        { "POST", "/api/v1/notifications/email", ID_HTTP_JSON | ID_HTTP_BEARER,
          notify_api_email },
        { "POST", "/api/v1/notifications/sms", ID_HTTP_JSON | ID_HTTP_BEARER,
          notify_api_sms },
        { "GET", "/metrics", ID_HTTP_INLINE, notify_api_metrics },
        ID_HEALTH_ROUTES,
    };

    id_log_init("notify");

    /* Before any thread (librdkafka, MHD): only sigtimedwait() below gets
     * them.  SIGPIPE: a peer closing a socket is an error, not a death. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    memset(&nc, 0, sizeof(nc));
    notify_metrics_init(&nc.metrics, NULL, NULL);
    notify_mail_init();
    conf = id_conf_load(notify_specs,
                        sizeof(notify_specs) / sizeof(notify_specs[0]));
    if (conf == NULL) {
        notify_metrics_destroy(&nc.metrics);
        notify_mail_shutdown();
        return 1;
    }
    if (id_conf_int(conf, "KAFKA_HEARTBEAT_INTERVAL_MS") >=
        id_conf_int(conf, "KAFKA_SESSION_TIMEOUT_MS")) {
        fprintf(stderr, "config: KAFKA_HEARTBEAT_INTERVAL_MS: must be below "
                        "KAFKA_SESSION_TIMEOUT_MS\n");
        goto err0;
    }
    listen = notify_opt(conf, "LISTEN");
    if (listen != NULL && notify_opt(conf, "DATABASE_URL") == NULL) {
        fprintf(stderr, "config: DATABASE_URL: required with LISTEN (the "
                        "notification API writes its jobs to the outbox)\n");
        goto err0;
    }
    if (notify_providers_load(&nc, conf) != 0) {
        goto err0;
    }
    /* no other thread yet */
    nc.metrics.d.provider[NOTIFY_EMAIL] =
        notify_provider_name(&nc, NOTIFY_EMAIL);
    nc.metrics.d.provider[NOTIFY_SMS] = notify_provider_name(&nc, NOTIFY_SMS);
    smtp = notify_opt(conf, "SMTP_URL");
    if (smtp != NULL &&
        notify_smtp_policy(&nc.mail, smtp, id_conf_bool(conf, "SMTP_STARTTLS"),
                           err, sizeof(err)) != 0) {
        fprintf(stderr, "config: SMTP_URL: %s\n", err);
        goto err0;
    }
    nc.mail.username = notify_opt(conf, "SMTP_USERNAME");
    nc.mail.password = notify_opt(conf, "SMTP_PASSWORD");
    nc.mail.ca_file = notify_opt(conf, "SMTP_CA_FILE");
    if (notify_mail_from_parse(&nc.mail, id_conf_str(conf, "MAIL_FROM"), err,
                               sizeof(err)) != 0) {
        fprintf(stderr, "config: MAIL_FROM: %s\n", err);
        goto err0;
    }
    if (notify_opt(conf, "MAIL_LIST_UNSUBSCRIBE") != NULL &&
        notify_mail_unsubscribe_parse(&nc.mail,
                                      notify_opt(conf, "MAIL_LIST_UNSUBSCRIBE"),
                                      err, sizeof(err)) != 0) {
        fprintf(stderr, "config: MAIL_LIST_UNSUBSCRIBE: %s\n", err);
        goto err1;
    }
    /* a bad template stops the worker here, not each of its jobs later */
    if (notify_templates_load(id_conf_str(conf, "NOTIFY_SHIPPED_TEMPLATE_DIR"),
                              notify_opt(conf, "NOTIFY_TEMPLATE_DIR"),
                              &nc.templates, err, sizeof(err)) != 0) {
        fprintf(stderr, "config: templates: %s\n", err);
        goto err1;
    }
    if (notify_keys_load(id_conf_str(conf, "NOTIFY_SECRET_KEY_FILE"), &nc.keys,
                         err, sizeof(err)) != 0) {
        fprintf(stderr, "config: NOTIFY_SECRET_KEY_FILE: %s\n", err);
        goto err1;
    }
    nc.sms_url = notify_opt(conf, "SMS_WEBHOOK_URL");
    nc.sms_token = notify_opt(conf, "SMS_WEBHOOK_TOKEN");
    notify_breaker_init(&nc.mail_breaker,
                        (int) id_conf_int(conf, "NOTIFY_BREAKER_THRESHOLD"),
                        id_conf_int(conf, "NOTIFY_BREAKER_COOLDOWN_MS"));
    nc.sms_breaker = nc.mail_breaker;
    nc.max_attempts = id_conf_int(conf, "NOTIFY_MAX_ATTEMPTS");
    nc.backoff_base = id_conf_int(conf, "NOTIFY_BACKOFF_BASE_MS");
    nc.backoff_max = id_conf_int(conf, "NOTIFY_BACKOFF_MAX_MS");
    srandom((unsigned) time(NULL) ^ (unsigned) getpid());
    if (notify_claim_token(nc.token, sizeof(nc.token)) != 0) {
        id_log_error("notify.start_failed", "err", "no random bytes", NULL);
        goto err1;
    }
    nc.lease_ms = nc.pv.timeout_ms + NOTIFY_CLAIM_MARGIN_MS;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        id_log_error("notify.start_failed", "err", "curl_global_init", NULL);
        goto err1;
    }
    /* Redis for deduplication, the DLQ producer, and PostgreSQL for the
     * API's outbox; health checks them all */
    if (id_serve_deps(conf,
                      ID_SERVE_REDIS | ID_SERVE_KAFKA |
                          (listen != NULL ? ID_SERVE_POSTGRES : 0u),
                      &health, &nc.dlq) != 0) {
        goto err2;
    }
    topics[0] = id_conf_str(conf, "NOTIFY_TOPIC");
    nc.dlq_topic = id_conf_str(conf, "NOTIFY_DLQ_TOPIC");
    memset(&cf, 0, sizeof(cf));
    cf.brokers = id_conf_str(conf, "KAFKA_BROKERS");
    cf.group_id = id_conf_str(conf, "KAFKA_GROUP_ID");
    cf.client_id = "identity-notify";
    cf.session_timeout_ms = (int) id_conf_int(conf, "KAFKA_SESSION_TIMEOUT_MS");
    cf.heartbeat_interval_ms =
        (int) id_conf_int(conf, "KAFKA_HEARTBEAT_INTERVAL_MS");
    cf.fetch_wait_max_ms = (int) id_conf_int(conf, "KAFKA_FETCH_WAIT_MAX_MS");
    nc.consumer = id_kafka_consumer_new(&cf, topics, 1, err, sizeof(err));
    if (nc.consumer == NULL) {
        id_log_error("notify.start_failed", "err", err, NULL);
        goto err3;
    }

    if (listen != NULL) {
        api.metrics = &nc.metrics;
        http = id_serve_start(conf, routes, sizeof(routes) / sizeof(routes[0]),
                              &api, &health);
        if (http == NULL) {
            goto err4;
        }
    }

    snprintf(tplcount, sizeof(tplcount), "%zu",
             notify_templates_count(nc.templates));
    id_log_info("notify.ready", "topic", topics[0], "group", cf.group_id,
                "mail", notify_provider_name(&nc, NOTIFY_EMAIL), "sms",
                nc.pv.sms == NOTIFY_SMS_TWILIO ? "twilio"
                : nc.sms_url != NULL           ? "webhook"
                                               : "unconfigured",
                "templates", tplcount, NULL);

    for (;;) {
        sig = sigtimedwait(&sigs, NULL, &zero);
        if (sig == SIGINT || sig == SIGTERM) {
            id_log_info("notify.stop", "signal", sig == SIGINT ? "INT" : "TERM",
                        NULL);
            rc = 0;
            break;
        }
        if (notify_now_ms() - lag_at >= NOTIFY_LAG_EVERY_MS) {
            lag_at = notify_now_ms();
            notify_metrics_lag(&nc.metrics,
                               id_kafka_consumer_lag(nc.consumer, &lag) == 0,
                               (long long) lag);
        }
        prc = id_kafka_consumer_poll(nc.consumer, NOTIFY_POLL_MS, &m);
        if (prc < 0) {
            id_log_error("notify.kafka_fatal", NULL);
            break;
        }
        if (prc == 0) {
            notify_handle(&nc, m);
            id_kafka_msg_free(m);
        }
    }

    id_serve_stop(http);

err4:

    id_kafka_consumer_close(nc.consumer);

err3:

    id_kafka_producer_free(nc.dlq);

err2:

    notify_conn_close(&nc.mail_conn);
    notify_conn_close(&nc.sms_conn);
    curl_global_cleanup();

err1:

    notify_keys_wipe(&nc.keys);
    notify_mail_conf_free(&nc.mail);
    notify_templates_free(nc.templates);

err0:

    free(nc.pv.twilio_url);
    notify_metrics_destroy(&nc.metrics);
    id_conf_free(conf);
    notify_mail_shutdown();
    return rc;
}
