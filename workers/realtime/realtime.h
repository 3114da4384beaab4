/*
 * realtime.h - identity-realtime's shared types (see main.c for the whole).
 *
 * Threads and who owns what:
 *
 *   the loop (main thread, lws_service): every socket, the registry of
 *       connections and their outgoing queues.  Nothing on it blocks.
 *   the bus subscriber (bus.c): one Redis connection in SUBSCRIBE to
 *       RT_CHANNEL (messages, already rate-checked) and the gateway's
 *       revocation channel; hands what it reads to the loop, and after
 *       each SUBSCRIBE the sessions revoked meanwhile.
 *   the jobs thread (jobs.c): Redis commands (rate limit, PUBLISH, the
 *       revoked set, the greeting flag) and PostgreSQL (display names) for
 *       the loop, whose requests it takes from a queue.
 *   the events thread (events.c): reads identity.events from its end in
 *       every partition (no group: every process sees every login) and
 *       tells the loop, which asks the jobs thread for a welcome if it
 *       holds a socket to welcome.
 *
 * The other threads never touch a socket: they name one by its 64-bit
 * connection id (never by wsi pointer, which may be freed and reused) and
 * post an rt_item_t to the loop's inbox (inbox.c), which wakes the loop
 * with lws_cancel_service(); LWS_CALLBACK_EVENT_WAIT_CANCELLED drains it.
 */
#ifndef RT_REALTIME_H
#define RT_REALTIME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define RT_CHANNEL "identity:realtime"
#define RT_GREETED_PREFIX "identity:realtime:greeted:"
#define RT_LIMIT_PREFIX "identity:limit:realtime:"

#define RT_ID_MAX 128         /* user id, session id: longer is refused */
#define RT_RECIPIENTS_MAX 100 /* recipients of one message */
/* A socket's messages on the jobs thread at once: beyond, the loop stops
 * reading that socket until one comes back, so that one client cannot
 * fill the jobs queue that every socket shares. */
#define RT_CONN_JOBS_MAX 8

/* Close codes (RFC 6455 1000-2999 are the protocol's, 4000-4999 ours);
 * README.md lists them with the error frames. */
#define RT_CLOSE_TOO_BIG 1009   /* message over REALTIME_MAX_MESSAGE_BYTES */
#define RT_CLOSE_REVOKED 4001   /* logout, password reset, deletion */
#define RT_CLOSE_EXPIRED 4002   /* the token's exp passed */
#define RT_CLOSE_SLOW 4008      /* outgoing queue over the limit */
#define RT_CLOSE_TOO_MANY 4029  /* sockets per user */
#define RT_CLOSE_SHUTDOWN 1001  /* the worker stops */
#define RT_CLOSE_TRY_AGAIN 1013 /* the jobs queue is full at the upgrade */

/* --------------------------------------------------------------- messages */

/* A client's message, validated (message.c). */
typedef struct {
    json_t *to;   /* array of user id strings; NULL: everyone */
    char   *text; /* the message, UTF-8, owned */
} rt_msg_t;

/*
 * rt_msg_parse(data, len, out, detail, dlen): the client's frame
 * {"recipients":[ids] | "recepients":[ids], "message":"..."}.  A sender
 * field is ignored (the sender is the verified identity).  0 ok (out
 * filled, rt_msg_clear() frees), -1 bad (detail says why, for the
 * bad_message error frame).
 */
int  rt_msg_parse(const char *data, size_t len, rt_msg_t *out, char *detail,
                  size_t dlen);
void rt_msg_clear(rt_msg_t *m);

/* X-Identity-Exp (unix seconds) into *out: digits only, at most
 * RT_EXP_MAX; 0 ok, -1 anything else. */
#define RT_EXP_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
#define RT_EXP_STEP_SECS 86400    /* longest single wait of the exp timer */
int rt_parse_exp(const char *text, long long *out);

/* The frames, as new strings (free()); NULL on ENOMEM. */
char *rt_frame_message(const char *from, const char *text, const char *sent_at);
char *rt_frame_welcome(const char *name, const char *sent_at);
char *rt_frame_error(const char *code, const char *detail, long retry_after_ms);

/* What goes on RT_CHANNEL: {"to":[ids]|absent,"frame":"<frame text>"}.
 * rt_bus_decode() returns 0 with *to (new reference or NULL: everyone; an
 * array of at most RT_RECIPIENTS_MAX strings shorter than RT_ID_MAX) and
 * *frame (new string) or -1 if the text is not one of ours. */
char *rt_bus_encode(const json_t *to, const char *frame);
int   rt_bus_decode(const char *text, size_t len, json_t **to, char **frame);

/* "sid:<sid> <exp>" of identity:revocations into sid.  0 ok, -1 not one. */
int rt_revocation_sid(const char *text, size_t len, char *sid, size_t sidlen);

/* 1 if text is a UUID in its canonical 8-4-4-4-12 hex form (users.id). */
int rt_is_uuid(const char *text);

/* The welcome's name: name, else first_name + " " + last_name (either
 * alone), else email; into out.  Any may be NULL or "". */
void rt_display_name(const char *name, const char *first, const char *last,
                     const char *email, char *out, size_t outlen);

/* ------------------------------------------------------------------ inbox */

typedef enum {
    RT_ITEM_TO_USERS, /* frame to every local socket of users (NULL: all)
                         but those of session sid (if set) */
    RT_ITEM_TO_CONN,  /* frame to one socket */
    RT_ITEM_CLOSE_CONN,
    RT_ITEM_CLOSE_SID,  /* every local socket of the session */
    RT_ITEM_CLOSE_SIDS, /* every local socket of the sessions in sids */
    RT_ITEM_LOGIN,      /* user logged in as session sid: a welcome for
                           the user's other local sockets, if any */
    RT_ITEM_JOB_DONE,   /* a socket's RT_JOB_SEND is over; frame: its
                           answer (an error frame) or NULL */
    RT_ITEM_STOP
} rt_item_kind_t;

typedef struct rt_item {
    struct rt_item *next;
    rt_item_kind_t  kind;
    uint64_t        conn;
    json_t         *users; /* TO_USERS: array of ids, NULL: everyone */
    json_t         *sids;  /* CLOSE_SIDS: object, a key per session id */
    char           *frame; /* owned */
    char            user[RT_ID_MAX]; /* LOGIN */
    char            sid[RT_ID_MAX];
    int             code;
    char            reason[64];
} rt_item_t;

struct lws_context;

int        rt_inbox_init(struct lws_context *ctx);
void       rt_inbox_post(rt_item_t *it); /* takes it; wakes the loop */
rt_item_t *rt_inbox_take(void);          /* all pending, oldest first */
/* before the context is destroyed: later posts are dropped */
void       rt_inbox_close(void);
void       rt_item_free(rt_item_t *it); /* one item, NULL-safe */
rt_item_t *rt_item_new(rt_item_kind_t kind);

/* ------------------------------------------------------------------- jobs */

typedef enum {
    RT_JOB_SEND,    /* rate check, then PUBLISH */
    RT_JOB_OPENED,  /* revoked already? greet the session's first socket */
    RT_JOB_WELCOME, /* a login: welcome the user's sockets but those of
                       the new session sid (greeted on RT_JOB_OPENED) */
    RT_JOB_STOP
} rt_job_kind_t;

typedef struct rt_job {
    struct rt_job *next;
    rt_job_kind_t  kind;
    uint64_t       conn;
    char           user[RT_ID_MAX];
    char           sid[RT_ID_MAX];
    long long      exp;
    rt_msg_t       msg;
    rt_item_t     *done; /* SEND: the RT_ITEM_JOB_DONE to post, allocated
                            with the job so that it always comes back */
} rt_job_t;

typedef struct {
    long rate;  /* messages per minute and user */
    long burst; /* at once */
} rt_limits_t;

/*
 * rt_jobs_post(job) takes job: 0 queued, -1 the queue is full (RT_JOBS_MAX
 * jobs waiting; logged, job freed: the caller answers for it).
 * rt_jobs_stop() puts RT_JOB_STOP at the head of the queue (what waits
 * behind it is dropped) and joins the thread.
 */
int  rt_jobs_start(const rt_limits_t *limits);
int  rt_jobs_post(rt_job_t *job);
void rt_jobs_stop(void);

/* ------------------------------------------------------ bus, events */

/* ZRANGEBYSCORE identity:revoked's reply (members "sid:<sid>") as
 * CLOSE_SIDS' object of session ids; NULL if none or ENOMEM.  (message.c,
 * pure) */
json_t *rt_revoked_sids(const char *const *members, size_t n);

int  rt_bus_start(void);
void rt_bus_stop(void);

/* A second before a background thread tries again, cut short when
 * *stopping is set.  (bus.c) */
void rt_pause(atomic_int *stopping);

int  rt_events_start(const char *brokers, int fetch_wait_ms);
void rt_events_stop(void);

/* the GCRA step (the gateway's script, ratelimit.c) */
extern const char rt_gcra_script[];

#endif
