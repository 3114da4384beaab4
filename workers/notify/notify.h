/*
 * notify.h - the notification worker: consumes jobs from Kafka, renders a
 * template and sends it by email (SMTP) or SMS (a webhook).
 *
 * Files: main.c (config, consume loop, delivery decisions), job.c (job JSON
 * validation, retry schedule), templates.c (the template files, rendering),
 * mail.c (the MIME message through GMime, header hygiene, SMTP via libcurl),
 * sms.c (the SMS webhook), conn.c (a libcurl handle kept per provider, so
 * that connections are reused; an HTTP POST over it), sendgrid.c (email
 * through a SendGrid v3 style API), twilio.c (SMS through a Twilio style
 * API), breaker.c (a circuit breaker per provider), dedupe.c (claims and
 * done job ids in Redis), metrics.c (Prometheus metrics on GET /metrics),
 * api.c (the notification API, which queues jobs for the loop).
 *
 * All functions here but api.c's are single-threaded: the worker is one
 * consumer loop; api.c's handlers run on the HTTP server's threads and
 * share only the (thread-safe) Kafka producer.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "http.h"
#include "kafka.h"

#define NOTIFY_TOPIC "identity.notifications"
#define NOTIFY_DLQ_TOPIC "identity.notifications.dlq"
#define NOTIFY_GROUP "identity-notify"

#define NOTIFY_MAX_PAYLOAD 65536 /* bytes of one job */
#define NOTIFY_ID_MAX 64         /* job id characters */
#define NOTIFY_PHONE_MAX 16      /* "+" and at most 15 digits (E.164) */


/* ------------------------------------------------------------------ job.c */

typedef enum { NOTIFY_EMAIL, NOTIFY_SMS } notify_channel_t;

typedef struct {
    json_t          *root; /* owns everything below but id */
    const char      *id;   /* [A-Za-z0-9._:-], 1..NOTIFY_ID_MAX */
    char             id_buf[NOTIFY_ID_MAX + 1];
    notify_channel_t channel;
    const char      *to; /* a valid address; a phone in the form +digits */
    char             to_buf[NOTIFY_PHONE_MAX + 1];
    const char      *tpl;        /* template name (not checked here) */
    const json_t    *data;       /* an object (empty if absent) */
    const char      *created_at; /* may be NULL */
} notify_job_t;

/*
 * Parses and checks one job.  0: *job is filled (free with
 * notify_job_free); -1: a poison job, the reason in err (no secret in it),
 * and job->id still set if the id itself was valid (for logs and the DLQ).
 */
int  notify_job_parse(const char *payload, size_t len, notify_job_t *job,
                      char *err, size_t errlen);
void notify_job_free(notify_job_t *job); /* NULL-safe, idempotent */

/*
 * The worker's X25519 key pairs for the jobs' sealed parts (see events.h):
 * the first is the current one, the others stay readable while jobs sealed
 * to them may still be queued (key rotation).
 */
#define NOTIFY_MAX_KEYS 4

typedef struct {
    unsigned char pk[NOTIFY_MAX_KEYS][32];
    unsigned char sk[NOTIFY_MAX_KEYS][32];
    size_t        n;
} notify_keys_t;

/*
 * Reads the secret keys in text: one unpadded base64url key a line (what
 * identity-keygen --alg X25519 writes), blank lines and # comments
 * ignored.  0 ok (at least one key), -1 with the reason in err (never a
 * key).  notify_keys_wipe() clears them.
 */
int  notify_keys_parse(const char *text, notify_keys_t *keys, char *err,
                       size_t errlen);
void notify_keys_wipe(notify_keys_t *keys);

/*
 * Opens job's "sealed" part with keys and merges its members into
 * job->data (they win over members of the same name in clear).  0 opened
 * or nothing sealed; -1 a poison job: not a string, not sealed to any of
 * keys, or not a JSON object inside (reason in err, never its content).
 */
int notify_job_unseal(notify_job_t *job, const notify_keys_t *keys, char *err,
                      size_t errlen);

/*
 * What the dead-letter topic keeps of a job's payload: the JSON object with
 * every secret member (id_event_secret_name, at any depth) replaced by
 * "[redacted]" and a data that is not an object redacted whole; "sealed"
 * stays (only the worker's key opens it, and it lets the job be replayed).
 * A payload that is not a JSON object is replaced whole by
 * {"redacted":"not a JSON object","bytes":n}.  A new json_t, NULL on ENOMEM.
 */
json_t *notify_job_redact(const char *payload, size_t len);

/* 1 if s looks like a deliverable addr-spec, else 0. */
int notify_email_valid(const char *s);

/*
 * A phone number as people write it ("+1 (555) 010-0100"): blanks, dashes,
 * dots and parentheses are dropped, an optional leading + is kept, 6-15
 * digits must remain.  0 with the result in out, -1 not a phone number.
 */
int notify_phone_normalize(const char *s, char out[NOTIFY_PHONE_MAX + 1]);

/*
 * The delay before trying again after failed attempt number attempt
 * (1, 2, ...): base_ms * 2^(attempt-1), at most cap_ms.  Then "equal
 * jitter": notify_backoff_jitter() keeps half of it and adds jitter (a
 * random number in [0,1)) times the other half, so that jobs and workers
 * that failed together do not retry together.
 */
long notify_backoff_ms(int attempt, long base_ms, long cap_ms);
long notify_backoff_jitter(long delay_ms, double jitter);


/* ------------------------------------------------------------ templates.c */

/* One template and the set the worker reads at start-up (opaque). */
typedef struct notify_template_s  notify_template_t;
typedef struct notify_templates_s notify_templates_t;

/*
 * Reads every NAME.tpl of shipped_dir, then of deploy_dir (NULL: none),
 * whose templates add to the shipped ones or replace those of the same
 * name.  0 ok (*out owned by the caller: notify_templates_free); -1 with
 * the reason in err, naming the file and line (a missing directory, an
 * unreadable or malformed file).
 */
int  notify_templates_load(const char *shipped_dir, const char *deploy_dir,
                           notify_templates_t **out, char *err, size_t errlen);
void notify_templates_free(notify_templates_t *ts); /* NULL-safe */

/*
 * Parses the text of one template file (the format: templates/README.md)
 * as template name.  0 ok (*out: notify_template_free); -1 with the
 * reason, "line N: ..." where a line is at fault, in err.
 */
int  notify_template_parse(const char *name, const char *src,
                           notify_template_t **out, char *err, size_t errlen);
void notify_template_free(notify_template_t *t); /* NULL-safe */

/* 1 if s may name a template or a variable: 1-64 of a-z 0-9 _ -. */
int notify_template_name_valid(const char *s);

/* The name of template i of ts, NULL past the last one; how many. */
const char *notify_template_name(const notify_templates_t *ts, size_t i);
size_t      notify_templates_count(const notify_templates_t *ts);

typedef struct {
    char *subject;          /* email only; NULL for SMS */
    char *text;             /* plain text body / SMS text, '\n' line ends */
    char *html;             /* email only: the HTML part, values escaped */
    char *to_name;          /* the To display name, NULL for none */
    int   list_unsubscribe; /* the template asks for List-Unsubscribe */
} notify_rendered_t;

/*
 * Renders template name of ts for channel with data.  0 ok (free with
 * notify_rendered_free); 1 unknown template; -1 bad or missing data.
 * err gets the reason (never a value from data).
 */
int  notify_render(const notify_templates_t *ts, const char *name,
                   notify_channel_t channel, const json_t *data,
                   notify_rendered_t *out, char *err, size_t errlen);
void notify_rendered_free(notify_rendered_t *r); /* NULL-safe */


/* ----------------------------------------------------------------- mail.c */

typedef enum {
    NOTIFY_SENT,      /* accepted by the server */
    NOTIFY_TRANSIENT, /* try again later (server down, 4xx, timeout) */
    NOTIFY_PERMANENT  /* will never work (5xx for this message) */
} notify_result_t;

typedef struct {
    const char *url;      /* smtp://host:port or smtps://host:port */
    const char *username; /* NULL: no AUTH */
    const char *password;
    const char *ca_file;     /* CAs of the server's certificate; NULL: the
                                system's */
    int         starttls;    /* smtp:// must upgrade (CURLUSESSL_ALL) */
    char       *from_addr;   /* envelope sender, from MAIL_FROM */
    char       *from_name;   /* its display name, UTF-8, NULL for none */
    const char *from_domain; /* inside from_addr, for Message-ID */
    char       *unsubscribe; /* the List-Unsubscribe value, NULL: never */
    long        timeout_ms;  /* longest SMTP transaction, connect included */
} notify_mail_conf_t;

/*
 * Parses MAIL_FROM ("addr" or "Display Name <addr>") into mc->from_*.
 * 0 ok, -1 invalid (reason in err).  notify_mail_conf_free frees them.
 */
int  notify_mail_from_parse(notify_mail_conf_t *mc, const char *mail_from,
                            char *err, size_t errlen);
void notify_mail_conf_free(notify_mail_conf_t *mc);

/*
 * Parses MAIL_LIST_UNSUBSCRIBE: one or more mailto: or http(s):// URIs,
 * separated by commas, into mc->unsubscribe as the header's value
 * ("<mailto:...>, <https://...>").  0 ok, -1 invalid (reason in err).
 */
int notify_mail_unsubscribe_parse(notify_mail_conf_t *mc, const char *value,
                                  char *err, size_t errlen);

/*
 * Header value hygiene (header injection): CR, LF, TAB and other controls
 * become one space, runs of blanks collapse, ends are trimmed.  Returns a
 * new string (NULL on ENOMEM).
 */
char *notify_header_clean(const char *in);

/* GMime's set-up and tear-down, once per process (main, tests). */
void notify_mail_init(void);
void notify_mail_shutdown(void);

/*
 * The whole RFC 5322 message (CRLF line ends) for job, built by GMime:
 * Date, From, To (with r->to_name), Subject (RFC 2047 when not ASCII),
 * Message-ID (the same for every attempt of a job), MIME-Version,
 * X-Identity-Job-Id, Auto-Submitted, List-Unsubscribe when r asks for it
 * and mc has one; a multipart/alternative of r->text (text/plain) and
 * r->html (text/html), each 7bit when it is short ASCII lines, else
 * quoted-printable.  Returns a new string (free()), NULL on failure.
 */
char *notify_mail_build(const notify_mail_conf_t *mc, const notify_job_t *job,
                        const notify_rendered_t *r, time_t now);

/*
 * Mail leaves encrypted unless the server is on this host: checks SMTP_URL
 * (url) with SMTP_STARTTLS (starttls) and sets mc->url and mc->starttls.
 * smtps:// is TLS from the start; smtp:// with starttls must upgrade with
 * STARTTLS (the transfer fails if the server does not offer it); a plain
 * smtp:// is allowed only to a loopback host (localhost, 127.0.0.0/8,
 * [::1]).  0 ok, -1 with the reason (for "config: SMTP_URL: ...") in err.
 */
int notify_smtp_policy(notify_mail_conf_t *mc, const char *url, int starttls,
                       char *err, size_t errlen);

/* 1 if the host of an smtp:// or smtps:// URL is a loopback one. */
int notify_smtp_loopback(const char *url);

/* What a finished SMTP transfer means (curl result, last SMTP code). */
notify_result_t notify_smtp_classify(int curl_code, long smtp_code);

/* -------------------------------------------------------------- breaker.c */

typedef enum {
    NOTIFY_BREAKER_CLOSED,
    NOTIFY_BREAKER_OPEN,
    NOTIFY_BREAKER_HALF_OPEN
} notify_breaker_state_t;

/* One provider's circuit breaker (see breaker.c); times in ms. */
typedef struct {
    /* transient failures in a row that open it; 0: never opens */
    int     threshold;
    long    cooldown_ms; /* open this long before one probe goes out */
    int     state;       /* notify_breaker_state_t */
    int     failures;    /* transient failures in a row */
    int64_t opened_at;
} notify_breaker_t;

void notify_breaker_init(notify_breaker_t *b, int threshold, long cooldown_ms);

/*
 * 1: a send may go out now (closed; or the cool-down is over and this is
 * the half-open probe).  0: open, no send; *wait_ms until the probe may go.
 */
int notify_breaker_allow(notify_breaker_t *b, int64_t now_ms, long *wait_ms);

/*
 * Records the result of a send that notify_breaker_allow() let out (a
 * permanent failure counts as an answer, as success).  1 if the state
 * changed (worth a log line), else 0.
 */
int notify_breaker_result(notify_breaker_t *b, notify_result_t res,
                          int64_t now_ms);

/* "closed", "open" or "half_open". */
const char *notify_breaker_state_name(const notify_breaker_t *b);


/* ----------------------------------------------------------------- conn.c */

/*
 * One provider's libcurl easy handle, kept from job to job so that libcurl
 * reuses its connection (SMTP session, HTTP keep-alive).  Single-threaded:
 * one per sending thread.  Zero it to start; notify_conn_close() ends it.
 */
typedef struct {
    CURL *curl;
} notify_conn_t;

/* The handle with its options reset (connections kept); NULL on ENOMEM. */
CURL *notify_conn_handle(notify_conn_t *c);
void  notify_conn_close(notify_conn_t *c); /* NULL-safe */

/* The providers chosen by MAIL_PROVIDER / SMS_PROVIDER and their settings. */
typedef enum { NOTIFY_MAIL_SMTP, NOTIFY_MAIL_SENDGRID } notify_mail_provider_t;
typedef enum { NOTIFY_SMS_WEBHOOK, NOTIFY_SMS_TWILIO } notify_sms_provider_t;

typedef struct {
    notify_mail_provider_t mail;
    notify_sms_provider_t  sms;
    const char            *sendgrid_url; /* the mail/send endpoint */
    const char            *sendgrid_key;
    char                  *twilio_url; /* .../Accounts/SID/Messages.json */
    const char            *twilio_sid;
    const char            *twilio_token;
    const char            *twilio_from;
    long                   timeout_ms; /* of one HTTP provider request */
} notify_providers_t;

/* One POST to an HTTP provider. */
typedef struct {
    const char *provider; /* its name, first in err */
    const char *url;
    const char *content_type; /* the whole header line */
    const char *body;
    const char *bearer; /* Authorization: Bearer; NULL: none */
    const char *user;   /* HTTP basic auth; NULL: none */
    const char *password;
    long        timeout_ms;
} notify_post_t;

/*
 * POSTs p over c; the answer's body is dropped.  The result by
 * notify_http_classify; the reason of a failure (provider, curl's words,
 * status: never the body) in err.
 */
notify_result_t notify_http_post(notify_conn_t *c, const notify_post_t *p,
                                 char *err, size_t errlen);

/* 1 if url is https://, or http:// to a loopback host; else 0. */
int notify_https_policy(const char *url);


/*
 * Sends message to to over c (a connection of an earlier mail to the same
 * server is reused).  The reason of a failure goes into err.
 */
notify_result_t notify_smtp_send(notify_conn_t *c, const notify_mail_conf_t *mc,
                                 const char *to, const char *message, char *err,
                                 size_t errlen);


/* ------------------------------------------------------------- sendgrid.c */

/*
 * The JSON body of SendGrid's v3 mail/send for job as rendered in r:
 * personalizations[0].to (address, to_name), from (MAIL_FROM), subject,
 * content text/plain then text/html, headers (X-Identity-Job-Id,
 * Auto-Submitted, List-Unsubscribe when r asks and mc has one),
 * custom_args {job_id, template}.  A new string (free()), NULL on ENOMEM.
 */
char *notify_sendgrid_body(const notify_mail_conf_t *mc,
                           const notify_job_t *job, const notify_rendered_t *r);

notify_result_t
notify_sendgrid_send(notify_conn_t *c, const notify_providers_t *pv,
                     const notify_mail_conf_t *mc, const notify_job_t *job,
                     const notify_rendered_t *r, char *err, size_t errlen);


/* --------------------------------------------------------------- twilio.c */

/* "To=..&From=..&Body=.." form-encoded; a new string, NULL on ENOMEM. */
char *notify_twilio_body(const char *from, const char *to, const char *text);

/* base (no trailing /) + "/2010-04-01/Accounts/SID/Messages.json". */
char *notify_twilio_url(const char *base, const char *sid);

notify_result_t notify_twilio_send(notify_conn_t            *c,
                                   const notify_providers_t *pv, const char *to,
                                   const char *text, char *err, size_t errlen);


/* ------------------------------------------------------------------ sms.c */

/* What a finished webhook POST means (curl result, HTTP status). */
notify_result_t notify_http_classify(int curl_code, long status);

/* POSTs {"to":to,"text":text} to url over c (Bearer token if not NULL). */
notify_result_t notify_sms_send(notify_conn_t *c, const char *url,
                                const char *token, const char *to,
                                const char *text, char *err, size_t errlen);


/* -------------------------------------------------------------- metrics.c */

#define NOTIFY_LAT_BUCKETS 12   /* delivery latency histogram buckets */
#define NOTIFY_METRIC_SERIES 64 /* (channel, provider, outcome) series */

typedef struct {
    struct {
        const char        *channel, *provider, *outcome; /* static names */
        unsigned long long n;
    } jobs[NOTIFY_METRIC_SERIES];
    size_t             njobs;
    unsigned long long lat_bucket[2][NOTIFY_LAT_BUCKETS]; /* by channel */
    unsigned long long lat_count[2];
    double             lat_sum[2];
    const char        *provider[2]; /* by channel */
    int                breaker[2];  /* notify_breaker_state_t, by channel */
    long long          lag;         /* consumer lag in messages, if known */
    int                lag_known;
} notify_metrics_data_t;

/* The worker's metrics: written by the consumer loop, read by /metrics. */
typedef struct {
    pthread_mutex_t       lock;
    notify_metrics_data_t d;
} notify_metrics_t;

/* mail_provider, sms_provider: static names, kept as pointers. */
void notify_metrics_init(notify_metrics_t *m, const char *mail_provider,
                         const char *sms_provider);
void notify_metrics_destroy(notify_metrics_t *m);

/* One job handled; channel or provider NULL for a job that had none. */
void notify_metrics_job(notify_metrics_t *m, const char *channel,
                        const char *provider, const char *outcome);

/* A job accepted by its provider seconds after its created_at. */
void notify_metrics_delivered(notify_metrics_t *m, notify_channel_t channel,
                              double seconds);

/* The breaker of channel's provider is now in state. */
void notify_metrics_breaker(notify_metrics_t *m, notify_channel_t channel,
                            int state);

/* The consumer's lag (id_kafka_consumer_lag), known or not. */
void notify_metrics_lag(notify_metrics_t *m, int known, long long lag);

/* The Prometheus text of m; a new string (free()), NULL on ENOMEM. */
char *notify_metrics_render(notify_metrics_t *m);

/*
 * Seconds from created_at (RFC 3339 in UTC, "...Z", milliseconds or not)
 * to now (CLOCK_REALTIME); -1 if it is not such a time.
 */
double notify_job_age(const char *created_at, const struct timespec *now);

/* GET /metrics: m of r->app's notify_api_t. */
void notify_api_metrics(id_http_req_t *r);


/* ------------------------------------------------------------------ api.c */

/* The handlers' r->app. */
typedef struct {
    notify_metrics_t *metrics; /* GET /metrics */
} notify_api_t;

/* POST /api/v1/notifications/email and /sms (see api.c). */
void notify_api_email(id_http_req_t *r);
void notify_api_sms(id_http_req_t *r);

/* 1 if s is a phone number in E.164 form: "+", 8-15 digits, no leading 0. */
int notify_api_phone_valid(const char *s);


/* --------------------------------------------------------------- dedupe.c */

/* Over redis.h (id_redis_init() done by main). */

#define NOTIFY_TOKEN_MAX 128 /* characters of a process's claim token */

typedef enum {
    NOTIFY_CLAIMED,      /* ours: send it */
    NOTIFY_CLAIM_DONE,   /* delivered already: skip it */
    NOTIFY_CLAIM_BUSY,   /* another process is sending it */
    NOTIFY_CLAIM_UNKNOWN /* Redis unreachable */
} notify_claim_t;

/*
 * Claims job id for the process of token (unique per process) for
 * lease_ms.  On NOTIFY_CLAIM_BUSY, *busy_ms is how long the other claim
 * still holds (0: unknown, look again soon).
 */
notify_claim_t notify_dedupe_claim(const char *id, const char *token,
                                   long lease_ms, long *busy_ms);

/* Records id as delivered for 7 days (ends the claim): 0 ok, -1 failed. */
int notify_dedupe_done(const char *id);

/* Ends this process's claim of id after a send that did not go out. */
void notify_dedupe_release(const char *id, const char *token);

#endif
