/*
 * jobs.c - the loop's blocking work, on one thread of its own: the rate
 * limit and PUBLISH of a client's message, the checks when a socket
 * opens (revoked already? the session's first socket?), the display name
 * of a welcome.  Answers go back to the loop as inbox items, addressed by
 * connection id; every RT_JOB_SEND comes back as RT_ITEM_JOB_DONE, which
 * lets the loop keep at most RT_CONN_JOBS_MAX of one socket's messages
 * here (it stops reading a socket at that many).  The queue is bounded
 * too (RT_JOBS_MAX, every socket together): a job refused there is
 * answered by the loop (an error frame, or close 1013 for a new socket's
 * checks), never dropped without a word.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "events.h"
#include "log.h"
#include "redis.h"
#include "sessions.h"

#include "queries.h"
#include "realtime.h"

#define RT_JOBS_MAX 10000

/*
 * The gateway's GCRA step (ngx_http_identity_ratelimit.c), the same
 * arithmetic: KEYS[1] the user's key, ARGV[1] the emission interval T in
 * microseconds, ARGV[2] the burst B.  {allowed, remaining, retry_us,
 * reset_us}, on Redis's clock, shared by every realtime process.
 */
const char rt_gcra_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local interval = tonumber(ARGV[1])\n"
    "local span = interval * tonumber(ARGV[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1])) or now\n"
    "if tat < now then tat = now end\n"
    "local nxt = tat + interval\n"
    "if nxt > now + span then\n"
    "  return {0, 0, nxt - span - now, tat - now}\n"
    "end\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', nxt),\n"
    "           'PX', math.ceil((nxt - now) / 1000) + 1000)\n"
    "return {1, math.floor((now + span - nxt) / interval), 0, nxt - now}\n";

static pthread_mutex_t rt_jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  rt_jobs_cond = PTHREAD_COND_INITIALIZER;
static rt_job_t       *rt_jobs_head, *rt_jobs_tail;
static size_t          rt_jobs_n;
static pthread_t       rt_jobs_thread;
static rt_limits_t     rt_jobs_limits;
static char            rt_jobs_gcra_sha[48]; /* SCRIPT LOAD's; "" not yet */


static void
rt_job_free(rt_job_t *j)
{
    rt_msg_clear(&j->msg);
    rt_item_free(j->done);
    free(j);
}


int
rt_jobs_post(rt_job_t *j)
{
    pthread_mutex_lock(&rt_jobs_mu);
    if (rt_jobs_n >= RT_JOBS_MAX && j->kind != RT_JOB_STOP) {
        pthread_mutex_unlock(&rt_jobs_mu);
        id_log_warn("realtime.jobs_full", "user", j->user, NULL);
        rt_job_free(j);
        return -1;
    }
    if (j->kind == RT_JOB_STOP) {
        /* first: the worker stops now, not after the backlog */
        j->next = rt_jobs_head;
        rt_jobs_head = j;
        if (rt_jobs_tail == NULL) {
            rt_jobs_tail = j;
        }
    } else {
        j->next = NULL;
        if (rt_jobs_tail != NULL) {
            rt_jobs_tail->next = j;
        } else {
            rt_jobs_head = j;
        }
        rt_jobs_tail = j;
    }
    rt_jobs_n++;
    pthread_cond_signal(&rt_jobs_cond);
    pthread_mutex_unlock(&rt_jobs_mu);
    return 0;
}


static void
rt_jobs_to_conn(uint64_t conn, char *frame)
{
    rt_item_t *it;

    if (frame == NULL) {
        return;
    }
    it = rt_item_new(RT_ITEM_TO_CONN);
    if (it == NULL) {
        free(frame);
        return;
    }
    it->conn = conn;
    it->frame = frame;
    rt_inbox_post(it);
}


/* The GCRA step for user: 1 allowed, 0 refused (*retry_ms), -1 Redis
 * failed. */
static int
rt_jobs_rate(const char *user, long *retry_ms)
{
    int         rc = -1;
    char        key[sizeof(RT_LIMIT_PREFIX) + RT_ID_MAX], interval[32], b[32];
    redisReply *r;

    snprintf(key, sizeof(key), RT_LIMIT_PREFIX "%s", user);
    /* rate per minute: one message every 60e6 / rate microseconds */
    snprintf(interval, sizeof(interval), "%ld",
             60000000L / rt_jobs_limits.rate);
    snprintf(b, sizeof(b), "%ld", rt_jobs_limits.burst);
    if (rt_jobs_gcra_sha[0] == '\0') {
        /* loaded once: EVALSHA sends 40 bytes instead of the script */
        r = id_redis_cmd("SCRIPT LOAD %s", rt_gcra_script);
        if (r != NULL && r->type == REDIS_REPLY_STRING &&
            r->len < sizeof(rt_jobs_gcra_sha)) {
            memcpy(rt_jobs_gcra_sha, r->str, r->len + 1);
        }
        if (r != NULL) {
            freeReplyObject(r);
        }
    }
    r = NULL;
    if (rt_jobs_gcra_sha[0] != '\0') {
        r = id_redis_cmd("EVALSHA %s 1 %s %s %s", rt_jobs_gcra_sha, key,
                         interval, b);
    }
    if (r == NULL) {
        /* NOSCRIPT (Redis restarted or flushed its scripts) or a failure:
         * EVAL runs it and caches it again; load it anew next time */
        rt_jobs_gcra_sha[0] = '\0';
        r = id_redis_cmd("EVAL %s 1 %s %s %s", rt_gcra_script, key, interval,
                         b);
    }
    if (r == NULL) {
        return -1;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 4) {
        rc = r->element[0]->integer == 1;
        *retry_ms = (long) ((r->element[2]->integer + 999) / 1000);
    }
    freeReplyObject(r);
    return rc;
}


/* A client's message: rate check, then PUBLISH.  The answer for the
 * sender (an error frame, new string) or NULL when it went out. */
static char *
rt_jobs_send(rt_job_t *j)
{
    int         ok;
    long        retry_ms = 0;
    char        now[32], *frame, *bus;
    redisReply *r;

    ok = rt_jobs_rate(j->user, &retry_ms);
    if (ok == 0) {
        id_log_info("realtime.rate_limited", "user", j->user, NULL);
        return rt_frame_error("rate_limited", "too many messages", retry_ms);
    }
    if (ok < 0) {
        return rt_frame_error("unavailable", "message not sent, try again", -1);
    }
    id_event_now(now);
    frame = rt_frame_message(j->user, j->msg.text, now);
    bus = frame != NULL ? rt_bus_encode(j->msg.to, frame) : NULL;
    free(frame);
    if (bus == NULL) {
        return rt_frame_error("unavailable", "out of memory, try again", -1);
    }
    /* every process, this one included, delivers what it reads back from
     * its SUBSCRIBE: one path for local and remote sockets */
    r = id_redis_cmd("PUBLISH %s %s", RT_CHANNEL, bus);
    free(bus);
    if (r == NULL) {
        return rt_frame_error("unavailable", "message not sent, try again", -1);
    }
    freeReplyObject(r);
    return NULL;
}


/* The user's display name into out; 0 ok, -1 none (unknown, deleted, or
 * PostgreSQL failed: logged). */
static int
rt_jobs_name(const char *user, char *out, size_t outlen)
{
    int         rc = -1;
    PGresult   *res;
    const char *params[1] = { user };

    if (!rt_is_uuid(user)) {
        return -1; /* not one of ours: no such user */
    }
    res = id_db_exec(RT_SQL_USER_NAME, 1, params, NULL);
    if (res != NULL && PQntuples(res) == 1) {
        rt_display_name(id_db_value(res, 0, "name"),
                        id_db_value(res, 0, "first_name"),
                        id_db_value(res, 0, "last_name"),
                        id_db_value(res, 0, "email"), out, outlen);
        rc = 0;
    }
    PQclear(res);
    return rc;
}


static void
rt_jobs_opened(rt_job_t *j)
{
    long long now = (long long) time(NULL), ttl;
    char      member[RT_ID_MAX + 8], key[sizeof(RT_GREETED_PREFIX) + RT_ID_MAX];
    char      name[512], at[32], t[32];
    redisReply *r;
    rt_item_t  *it;

    if (j->sid[0] == '\0') {
        return;
    }
    /* revoked between the gateway's check and the upgrade: the channel's
     * message went out before this socket was registered */
    if (id_sessions_member(j->sid, member, sizeof(member)) == 0) {
        r = id_redis_cmd("ZSCORE %s %s", ID_SESSIONS_REVOKED_KEY, member);
        if (r != NULL && r->type == REDIS_REPLY_STRING &&
            strtoll(r->str, NULL, 10) >= now) {
            freeReplyObject(r);
            it = rt_item_new(RT_ITEM_CLOSE_CONN);
            if (it != NULL) {
                it->conn = j->conn;
                it->code = RT_CLOSE_REVOKED;
                snprintf(it->reason, sizeof(it->reason), "session revoked");
                rt_inbox_post(it);
            }
            return;
        }
        if (r != NULL) {
            freeReplyObject(r);
        }
    }
    /* greeted once per session, whichever process holds its first socket;
     * the flag lives as long as the token could */
    ttl = j->exp > now ? j->exp - now : 60;
    snprintf(key, sizeof(key), RT_GREETED_PREFIX "%s", j->sid);
    snprintf(t, sizeof(t), "%lld", ttl);
    r = id_redis_cmd("SET %s 1 NX EX %s", key, t);
    if (r == NULL || r->type != REDIS_REPLY_STATUS) {
        if (r != NULL) {
            freeReplyObject(r); /* nil: greeted before */
        }
        return;
    }
    freeReplyObject(r);
    if (rt_jobs_name(j->user, name, sizeof(name)) != 0) {
        /* no greeting went out: the session's next socket may try again
         * (PostgreSQL may be back by then) */
        r = id_redis_cmd("DEL %s", key);
        if (r != NULL) {
            freeReplyObject(r);
        }
        return;
    }
    id_event_now(at);
    rt_jobs_to_conn(j->conn, rt_frame_welcome(name, at));
}


static void
rt_jobs_welcome(rt_job_t *j)
{
    char       name[512], at[32], *frame;
    rt_item_t *it;

    if (rt_jobs_name(j->user, name, sizeof(name)) != 0) {
        return;
    }
    id_event_now(at);
    frame = rt_frame_welcome(name, at);
    it = frame != NULL ? rt_item_new(RT_ITEM_TO_USERS) : NULL;
    if (it == NULL) {
        free(frame);
        return;
    }
    it->frame = frame;
    it->users = json_pack("[s]", j->user);
    /* the new session's sockets are greeted on RT_JOB_OPENED */
    memcpy(it->sid, j->sid, sizeof(it->sid));
    rt_inbox_post(it);
}


static void *
rt_jobs_main(void *arg)
{
    rt_job_t *j;

    (void) arg;
    for (;;) {
        pthread_mutex_lock(&rt_jobs_mu);
        while (rt_jobs_head == NULL) {
            pthread_cond_wait(&rt_jobs_cond, &rt_jobs_mu);
        }
        j = rt_jobs_head;
        rt_jobs_head = j->next;
        if (rt_jobs_head == NULL) {
            rt_jobs_tail = NULL;
        }
        rt_jobs_n--;
        pthread_mutex_unlock(&rt_jobs_mu);

        switch (j->kind) {
        case RT_JOB_SEND:
            j->done->frame = rt_jobs_send(j);
            rt_inbox_post(j->done); /* never dropped (inbox.c) */
            j->done = NULL;
            break;
        case RT_JOB_OPENED:
            rt_jobs_opened(j);
            break;
        case RT_JOB_WELCOME:
            rt_jobs_welcome(j);
            break;
        case RT_JOB_STOP:
            rt_job_free(j);
            return NULL;
        }
        rt_job_free(j);
    }
}


int
rt_jobs_start(const rt_limits_t *limits)
{
    rt_jobs_limits = *limits;
    return pthread_create(&rt_jobs_thread, NULL, rt_jobs_main, NULL) == 0 ? 0
                                                                          : -1;
}


void
rt_jobs_stop(void)
{
    rt_job_t *j = calloc(1, sizeof(*j)), *next;

    if (j == NULL) {
        return;
    }
    j->kind = RT_JOB_STOP;
    rt_jobs_post(j);
    pthread_join(rt_jobs_thread, NULL);
    /* what waited behind the stop: its sockets are closed already */
    pthread_mutex_lock(&rt_jobs_mu);
    j = rt_jobs_head;
    rt_jobs_head = rt_jobs_tail = NULL;
    rt_jobs_n = 0;
    pthread_mutex_unlock(&rt_jobs_mu);
    for (; j != NULL; j = next) {
        next = j->next;
        rt_job_free(j);
    }
}
