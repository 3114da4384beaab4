/*
 * relay.c - the outbox relay thread (see relay.h).
 *
 * It has a PostgreSQL connection of its own rather than db.c's per-thread
 * one: it waits on the socket for notifications, and its session holds
 * the relay lock, which must not be shared with any other work.
 */
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "crypto.h"
#include "log.h"
#include "outbox.h"
#include "relay.h"

/* The two-integer advisory key space is apart from the one-bigint space
 * the writers' per-key locks use (outbox.c): 0x6f757462 is "outb". */
#define ID_RELAY_SQL_LOCK "SELECT pg_try_advisory_lock(1869968482, 1) AS locked"
#define ID_RELAY_SQL_LISTEN "LISTEN " ID_OUTBOX_CHANNEL
#define ID_RELAY_SQL_UNSENT                                                    \
    "SELECT id, topic, key, payload FROM outbox WHERE sent_at IS NULL "        \
    "ORDER BY id LIMIT $1"
#define ID_RELAY_SQL_MARK                                                      \
    "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])"
#define ID_RELAY_SQL_TRIM                                                      \
    "DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => $1)"


struct id_relay {
    char                *conninfo;
    id_kafka_producer_t *kafka;
    pthread_t            thread;
    atomic_int           stop;
    atomic_int           active;
    /* written by the relay's thread, read by the metrics' handler threads */
    atomic_ullong published;
    atomic_ullong failures;
};


long
id_relay_backoff_ms(int failures, long base, long cap, double rnd)
{
    long d = base;

    if (failures < 1 || base <= 0) {
        return 0;
    }
    while (--failures > 0 && d < cap) {
        d = d > LONG_MAX / 2 ? LONG_MAX : d * 2;
    }
    if (d > cap) {
        d = cap;
    }
    if (rnd < 0) {
        rnd = 0;
    } else if (rnd > 1) {
        rnd = 1;
    }
    return (d - d / 2) + (long) ((double) (d / 2) * rnd);
}


size_t
id_relay_acked_prefix(const id_kafka_batch_msg_t *msgs, size_t n)
{
    size_t i;

    for (i = 0; i < n && msgs[i].err == 0; i++) {
    }
    return i;
}


int
id_relay_active(const id_relay_t *r)
{
    return r != NULL && atomic_load(&r->active);
}


void
id_relay_stats(const id_relay_t *r, id_relay_stats_t *out)
{
    if (r == NULL) {
        out->active = 0;
        out->published = 0;
        out->failures = 0;
        return;
    }
    out->active = atomic_load(&r->active) != 0;
    out->published = atomic_load(&r->published);
    out->failures = atomic_load(&r->failures);
}


/* A random number in [0,1] for the jitter; 0.5 if the CSPRNG fails. */
static double
id_relay_rnd(void)
{
    unsigned char b[4];

    if (id_crypto_random(b, sizeof(b)) != 0) {
        return 0.5;
    }
    return (double) ((uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 |
                     (uint32_t) b[2] << 8 | b[3]) /
           4294967295.0;
}


/* Drops the notifications already read; 1 if there was one. */
static int
id_relay_drain(PGconn *conn)
{
    int       any = 0;
    PGnotify *n;

    while ((n = PQnotifies(conn)) != NULL) {
        any = 1;
        PQfreemem(n);
    }
    return any;
}


/*
 * Waits up to ms for a notification (or, with conn NULL, just sleeps),
 * in slices that watch the stop flag.  Notifications that came in while a
 * query ran are already queued on conn: those end the wait at once.
 */
static void
id_relay_wait(id_relay_t *r, PGconn *conn, long ms)
{
    long            left = ms;
    struct pollfd   pfd;
    struct timespec t;

    if (conn != NULL && id_relay_drain(conn)) {
        return;
    }
    while (left > 0 && !atomic_load(&r->stop)) {
        long slice = left < 200 ? left : 200;

        if (conn != NULL) {
            pfd.fd = PQsocket(conn);
            pfd.events = POLLIN;
            if (poll(&pfd, 1, (int) slice) > 0) {
                if (!PQconsumeInput(conn) || id_relay_drain(conn)) {
                    return; /* notified, or broken (found by the caller) */
                }
            }
        } else {
            t.tv_sec = slice / 1000;
            t.tv_nsec = (slice % 1000) * 1000000;
            nanosleep(&t, NULL);
        }
        left -= slice;
    }
}


static PGresult *
id_relay_exec(PGconn *conn, const char *sql, int n, const char *const *params,
              ExecStatusType want)
{
    PGresult *res;

    res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != want) {
        id_log_error("relay.query", "err", PQerrorMessage(conn), NULL);
        PQclear(res);
        return NULL;
    }
    return res;
}


/* "{1,2,3}": the ids of rows [0, n) of res, for = ANY($1::bigint[]). */
static char *
id_relay_id_array(const PGresult *res, size_t n)
{
    size_t i, len = 3, off = 0;
    char  *s;
    int    col = PQfnumber(res, "id");

    for (i = 0; i < n; i++) {
        len += strlen(PQgetvalue(res, (int) i, col)) + 1;
    }
    s = malloc(len);
    if (s == NULL) {
        return NULL;
    }
    s[off++] = '{';
    for (i = 0; i < n; i++) {
        off += (size_t) snprintf(s + off, len - off, "%s%s", i ? "," : "",
                                 PQgetvalue(res, (int) i, col));
    }
    s[off++] = '}';
    s[off] = '\0';
    return s;
}


/*
 * One round: publishes up to ID_RELAY_BATCH unsent rows.  Returns how many
 * were published and marked, -1 when Kafka did not ack them all (the acked
 * prefix is marked), -2 when PostgreSQL failed.
 */
static int
id_relay_round(id_relay_t *r, PGconn *conn)
{
    int                   rc = -2, ntuples;
    char                  limit[16], *ids = NULL;
    size_t                i, n, done;
    const char           *params[1];
    PGresult             *res, *up;
    id_kafka_batch_msg_t *msgs = NULL;
    int                   c_topic, c_key, c_payload;

    snprintf(limit, sizeof(limit), "%d", ID_RELAY_BATCH);
    params[0] = limit;
    res = id_relay_exec(conn, ID_RELAY_SQL_UNSENT, 1, params, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -2;
    }
    ntuples = PQntuples(res);
    if (ntuples == 0) {
        rc = 0;
        goto done;
    }
    n = (size_t) ntuples;
    msgs = calloc(n, sizeof(*msgs));
    if (msgs == NULL) {
        goto done;
    }
    c_topic = PQfnumber(res, "topic");
    c_key = PQfnumber(res, "key");
    c_payload = PQfnumber(res, "payload");
    for (i = 0; i < n; i++) {
        msgs[i].topic = PQgetvalue(res, (int) i, c_topic);
        msgs[i].key = PQgetisnull(res, (int) i, c_key)
                          ? NULL
                          : PQgetvalue(res, (int) i, c_key);
        msgs[i].payload = PQgetvalue(res, (int) i, c_payload);
        msgs[i].len = (size_t) PQgetlength(res, (int) i, c_payload);
    }
    id_kafka_produce_batch(r->kafka, msgs, n, ID_RELAY_ACK_MS, &r->stop);
    done = id_relay_acked_prefix(msgs, n);
    /* on Kafka now, whether or not the mark below succeeds */
    atomic_fetch_add(&r->published, (unsigned long long) done);
    if (done > 0) {
        ids = id_relay_id_array(res, done);
        params[0] = ids;
        up = ids != NULL ? id_relay_exec(conn, ID_RELAY_SQL_MARK, 1, params,
                                         PGRES_COMMAND_OK)
                         : NULL;
        if (up == NULL) {
            /* acked but still unsent: published again, deduplicated by
             * the consumers */
            goto done;
        }
        PQclear(up);
    }
    rc = done == n ? (int) n : -1;

done:

    free(ids);
    free(msgs);
    PQclear(res);
    return rc;
}


static void
id_relay_trim(PGconn *conn)
{
    char        keep[16];
    const char *params[1];
    PGresult   *res;

    snprintf(keep, sizeof(keep), "%d", ID_RELAY_KEEP_S);
    params[0] = keep;
    res = id_relay_exec(conn, ID_RELAY_SQL_TRIM, 1, params, PGRES_COMMAND_OK);
    if (res != NULL && strcmp(PQcmdTuples(res), "0") != 0) {
        id_log_info("relay.trimmed", "rows", PQcmdTuples(res), NULL);
    }
    PQclear(res);
}


/* The relay's connection: NULL when PostgreSQL cannot be reached
 * (logged). */
static PGconn *
id_relay_connect(id_relay_t *r)
{
    PGconn *conn;

    conn = PQconnectdb(r->conninfo);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        id_log_error("relay.connect", "err",
                     conn ? PQerrorMessage(conn) : "out of memory", NULL);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}


/*
 * 1 if this session got the relay lock (and now listens), 0 not, -1
 * error.  Only the active relay listens: a session that listens and does
 * not read holds back PostgreSQL's notification queue for everyone, and a
 * full queue fails every committing NOTIFY.
 */
static int
id_relay_lock(PGconn *conn)
{
    int       got;
    PGresult *res;

    res = id_relay_exec(conn, ID_RELAY_SQL_LOCK, 0, NULL, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }
    got = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!got) {
        return 0;
    }
    res = id_relay_exec(conn, ID_RELAY_SQL_LISTEN, 0, NULL, PGRES_COMMAND_OK);
    if (res == NULL) {
        return -1; /* the connection is dropped, and the lock with it */
    }
    PQclear(res);
    return 1;
}


static void *
id_relay_main(void *arg)
{
    id_relay_t *r = arg;
    int         rc, failures = 0;
    char        n[16];
    time_t      now, trimmed = 0;
    PGconn     *conn = NULL;

    while (!atomic_load(&r->stop)) {
        if (conn != NULL && PQstatus(conn) != CONNECTION_OK) {
            PQfinish(conn); /* the lock went with the session */
            conn = NULL;
            if (atomic_exchange(&r->active, 0)) {
                id_log_warn("relay.standby", "reason", "connection lost", NULL);
            }
        }
        if (conn == NULL) {
            conn = id_relay_connect(r);
            if (conn == NULL) {
                id_relay_wait(r, NULL, ID_RELAY_POLL_MS);
                continue;
            }
        }
        if (!atomic_load(&r->active)) {
            rc = id_relay_lock(conn);
            if (rc < 0) {
                PQfinish(conn);
                conn = NULL;
            }
            if (rc != 1) {
                id_relay_wait(r, NULL, ID_RELAY_POLL_MS);
                continue;
            }
            atomic_store(&r->active, 1);
            id_log_info("relay.active", NULL);
        }

        rc = id_relay_round(r, conn);
        if (rc == -2) {
            id_relay_wait(r, NULL, ID_RELAY_POLL_MS);
            continue;
        }
        if (rc == -1) {
            long ms;

            failures++;
            atomic_fetch_add(&r->failures, 1);
            ms = id_relay_backoff_ms(failures, ID_RELAY_RETRY_BASE_MS,
                                     ID_RELAY_RETRY_MAX_MS, id_relay_rnd());
            snprintf(n, sizeof(n), "%d", failures);
            id_log_warn("relay.publish_failed", "failures", n, NULL);
            id_relay_wait(r, NULL, ms);
            continue;
        }
        if (failures > 0) {
            id_log_info("relay.recovered", NULL);
            failures = 0;
        }
        now = time(NULL);
        if (now - trimmed >= ID_RELAY_TRIM_EVERY_S) {
            id_relay_trim(conn);
            trimmed = now;
        }
        if (rc < ID_RELAY_BATCH) {
            /* caught up: until the next commit notifies, or the poll */
            id_relay_wait(r, conn, ID_RELAY_POLL_MS);
        }
    }
    PQfinish(conn);
    atomic_store(&r->active, 0);
    return NULL;
}


id_relay_t *
id_relay_start(const char *conninfo, id_kafka_producer_t *kafka)
{
    sigset_t    all, old;
    id_relay_t *r;

    if (conninfo == NULL || kafka == NULL) {
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->conninfo = strdup(conninfo);
    if (r->conninfo == NULL) {
        free(r);
        return NULL;
    }
    r->kafka = kafka;
    /* the worker's main thread waits for SIGINT/SIGTERM with sigwait() */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&r->thread, NULL, id_relay_main, r) != 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        free(r->conninfo);
        free(r);
        return NULL;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}


void
id_relay_stop(id_relay_t *r)
{
    if (r == NULL) {
        return;
    }
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
    free(r->conninfo);
    free(r);
}
