/*
 * db.c - one libpq connection per thread (see db.h).
 */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"

/* PostgreSQL's "feature not supported": what a prepared statement answers
 * once a schema change altered the columns it returns. */
#define ID_DB_SQLSTATE_CACHED_PLAN "0A000"

typedef struct {
    char    *sql; /* the text it was prepared from */
    uint64_t hash;
    char     name[24];
} id_db_stmt_t;

/* A thread's connection and the statements prepared on it: a session's
 * prepared statements die with it, so the list is emptied whenever the
 * connection is reset. */
typedef struct {
    PGconn      *conn;
    unsigned     serial; /* names every statement prepared on conn apart */
    int          n;
    id_db_stmt_t stmt[ID_DB_PREPARED_MAX];
} id_db_thread_t;

/* Set once by id_db_init() before threads start. */
static char         *id_db_conninfo;
static pthread_key_t id_db_key;

/* This thread's connection has a ping whose answer is still to come (it
 * timed out): the next ping waits for that one instead of sending. */
static _Thread_local PGconn *id_db_ping_pending;


static void
id_db_forget_statements(id_db_thread_t *t)
{
    int i;

    for (i = 0; i < t->n; i++) {
        free(t->stmt[i].sql);
    }
    t->n = 0;
}


static void
id_db_thread_exit(void *arg)
{
    id_db_thread_t *t = arg;

    id_db_forget_statements(t);
    PQfinish(t->conn);
    free(t);
}


int
id_db_init(const char *conninfo)
{
    if (conninfo == NULL) {
        return -1;
    }
    id_db_conninfo = strdup(conninfo);
    if (id_db_conninfo == NULL ||
        pthread_key_create(&id_db_key, id_db_thread_exit) != 0) {
        return -1;
    }
    return 0;
}


static id_db_thread_t *
id_db_thread(void)
{
    id_db_thread_t *t = pthread_getspecific(id_db_key);

    if (t != NULL) {
        return t;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL || pthread_setspecific(id_db_key, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}


static PGconn *
id_db_conn(void)
{
    id_db_thread_t *t = id_db_thread();

    if (t == NULL) {
        return NULL;
    }
    if (t->conn != NULL && PQstatus(t->conn) == CONNECTION_OK) {
        return t->conn;
    }
    id_db_forget_statements(t);
    if (t->conn != NULL) {
        PQreset(t->conn);
        if (PQstatus(t->conn) == CONNECTION_OK) {
            id_log_info("db.reconnected", NULL);
            PQclear(PQexec(t->conn, "SET TIME ZONE 'UTC'"));
            return t->conn;
        }
        id_log_error("db.connect", "err", PQerrorMessage(t->conn), NULL);
        return NULL;
    }
    t->conn = PQconnectdb(id_db_conninfo); /* owned by the thread */
    if (t->conn == NULL) {
        return NULL;
    }
    if (PQstatus(t->conn) != CONNECTION_OK) {
        id_log_error("db.connect", "err", PQerrorMessage(t->conn), NULL);
        return NULL;
    }
    /* the queries format their timestamps in UTC themselves (user.h); this
     * covers any other timestamp text */
    PQclear(PQexec(t->conn, "SET TIME ZONE 'UTC'"));
    return t->conn;
}


/* FNV-1a: the statements are a few dozen fixed texts; this only spares
 * most comparisons of whole texts. */
static uint64_t
id_db_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char) *s) * 1099511628211ULL;
    }
    return h;
}


/*
 * The name sql is prepared under on this thread's connection, preparing it
 * now if it is new; NULL (and *failed set to the failed preparation's
 * result) when PostgreSQL refused it, and NULL with *failed NULL when the
 * list is full: that statement then runs unprepared.
 */
static const char *
id_db_prepared(id_db_thread_t *t, const char *sql, int n, PGresult **failed)
{
    int           i;
    uint64_t      h = id_db_hash(sql);
    PGresult     *res;
    id_db_stmt_t *st;

    *failed = NULL;
    for (i = 0; i < t->n; i++) {
        if (t->stmt[i].hash == h && strcmp(t->stmt[i].sql, sql) == 0) {
            return t->stmt[i].name;
        }
    }
    if (t->n == ID_DB_PREPARED_MAX) {
        return NULL;
    }
    st = &t->stmt[t->n];
    snprintf(st->name, sizeof(st->name), "id_%u", t->serial++);
    res = PQprepare(t->conn, st->name, sql, n, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *failed = res;
        return NULL;
    }
    PQclear(res);
    st->sql = strdup(sql);
    if (st->sql == NULL) {
        return NULL; /* prepared but unknown: runs unprepared */
    }
    st->hash = h;
    t->n++;
    return st->name;
}


/* Drops sql from the list (its server-side statement stays until the
 * connection closes): the next call prepares it again, as it is now. */
static void
id_db_forget_statement(id_db_thread_t *t, const char *sql)
{
    int i;

    for (i = 0; i < t->n; i++) {
        if (strcmp(t->stmt[i].sql, sql) == 0) {
            free(t->stmt[i].sql);
            t->stmt[i] = t->stmt[--t->n];
            return;
        }
    }
}


PGresult *
id_db_exec(const char *sql, int n, const char *const *params, char sqlstate[6])
{
    int             attempt, in_tx;
    const char     *st, *name;
    PGconn         *conn;
    id_db_thread_t *t;
    PGresult       *res = NULL;
    ExecStatusType  status;

    if (sqlstate != NULL) {
        sqlstate[0] = '\0';
    }
    for (attempt = 0; attempt < 2; attempt++) {
        conn = id_db_conn();
        t = pthread_getspecific(id_db_key);
        if (conn == NULL) {
            return NULL;
        }
        in_tx = PQtransactionStatus(conn) != PQTRANS_IDLE;
        res = NULL;
        name = n > 0 ? id_db_prepared(t, sql, n, &res) : NULL;
        if (name != NULL) {
            res = PQexecPrepared(conn, name, n, params, NULL, NULL, 0);
        } else if (res == NULL) {
            res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
        }
        status = PQresultStatus(res);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            return res;
        }
        st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (sqlstate != NULL && st != NULL) {
            strncpy(sqlstate, st, 5);
            sqlstate[5] = '\0';
        }
        if (name != NULL && st != NULL &&
            strcmp(st, ID_DB_SQLSTATE_CACHED_PLAN) == 0) {
            /* prepared before a schema change: prepared again next time,
             * and now once more unless a transaction was open (it is
             * aborted) */
            id_db_forget_statement(t, sql);
            if (!in_tx && attempt == 0) {
                PQclear(res);
                res = NULL;
                continue;
            }
        }
        if (PQstatus(conn) == CONNECTION_BAD && !in_tx && attempt == 0) {
            /* the server went away between requests: try a fresh one */
            PQclear(res);
            res = NULL;
            continue;
        }
        id_log_error("db.query", "err", PQerrorMessage(conn), "sqlstate",
                     st ? st : "", NULL);
        break;
    }
    PQclear(res);
    return NULL;
}


static int
id_db_simple(const char *sql)
{
    PGresult *res;

    res = id_db_exec(sql, 0, NULL, NULL);
    if (res == NULL) {
        return -1;
    }
    PQclear(res);
    return 0;
}


int
id_db_begin(void)
{
    return id_db_simple("BEGIN");
}


int
id_db_commit(void)
{
    int       rc = 0;
    PGresult *res;

    res = id_db_exec("COMMIT", 0, NULL, NULL);
    if (res == NULL) {
        return -1;
    }
    /* COMMIT of a transaction in which a statement failed succeeds as a
     * ROLLBACK: the caller must not answer as if its changes (and the
     * outbox rows that report them) were made */
    if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        id_log_error("db.commit", "err", "the transaction was rolled back",
                     NULL);
        rc = -1;
    }
    PQclear(res);
    return rc;
}


int
id_db_rollback(void)
{
    id_db_thread_t *t = pthread_getspecific(id_db_key);
    PGconn         *conn = t != NULL ? t->conn : NULL;

    if (conn == NULL || PQstatus(conn) != CONNECTION_OK ||
        PQtransactionStatus(conn) == PQTRANS_IDLE) {
        return 0;
    }
    return id_db_simple("ROLLBACK");
}


const char *
id_db_value(const PGresult *res, int row, const char *column)
{
    int col;

    if (res == NULL || row >= PQntuples(res)) {
        return NULL;
    }
    col = PQfnumber(res, column);
    if (col < 0 || PQgetisnull(res, row, col)) {
        return NULL;
    }
    return PQgetvalue(res, row, col);
}


static long
id_db_ms_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000 +
           (now.tv_nsec - t0->tv_nsec) / 1000000;
}


/* SELECT 1 on conn without blocking for more than ID_DB_PING_MS: readiness
 * must answer even when the server hangs.  A ping that timed out stays
 * outstanding on the connection and is waited for by the next one; *sent
 * says whether this one sent its own. */
static int
id_db_ping_on(PGconn *conn, int *sent)
{
    int             rc = 0, n;
    long            left;
    PGresult       *res;
    struct pollfd   pfd;
    struct timespec t0;

    *sent = id_db_ping_pending != conn;
    if (*sent) {
        if (!PQsendQuery(conn, "SELECT 1")) {
            id_db_ping_pending = NULL;
            return -1;
        }
        id_db_ping_pending = conn;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (!PQconsumeInput(conn)) {
            id_db_ping_pending = NULL;
            return -1; /* broken: reset on the next use */
        }
        if (!PQisBusy(conn)) {
            break;
        }
        left = ID_DB_PING_MS - id_db_ms_since(&t0);
        if (left <= 0) {
            id_log_warn("db.ping_timeout", NULL);
            return -1; /* still pending */
        }
        pfd.fd = PQsocket(conn);
        pfd.events = POLLIN;
        n = poll(&pfd, 1, (int) left);
        if (n < 0) {
            return -1;
        }
    }
    id_db_ping_pending = NULL;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = -1;
        }
        PQclear(res);
    }
    return rc;
}


int
id_db_ping(void)
{
    int     rc = -1, sent, attempt;
    PGconn *conn;

    for (attempt = 0; attempt < 2; attempt++) {
        conn = id_db_conn();
        if (conn == NULL) {
            id_db_ping_pending = NULL;
            return -1;
        }
        rc = id_db_ping_on(conn, &sent);
        /* an idle connection found closed (the server restarted since the
         * last check): once more on a new one, as id_db_exec() does, so
         * that the first check after the server's return says ready */
        if (rc == 0 || !sent || PQstatus(conn) != CONNECTION_BAD) {
            break;
        }
    }
    return rc;
}
