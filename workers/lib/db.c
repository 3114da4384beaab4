/*
 * db.c - one libpq connection per thread (see db.h).
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"

/* Set once by id_db_init() before threads start. */
static char         *id_db_conninfo;
static pthread_key_t id_db_key;

/* This thread's connection has a ping whose answer is still to come (it
 * timed out): the next ping waits for that one instead of sending. */
static _Thread_local PGconn *id_db_ping_pending;


static void
id_db_thread_exit(void *conn)
{
    PQfinish(conn);
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


static PGconn *
id_db_conn(void)
{
    PGconn *conn;

    conn = pthread_getspecific(id_db_key);
    if (conn != NULL && PQstatus(conn) == CONNECTION_OK) {
        return conn;
    }
    if (conn != NULL) {
        PQreset(conn);
        if (PQstatus(conn) == CONNECTION_OK) {
            id_log_info("db.reconnected", NULL);
            PQclear(PQexec(conn, "SET TIME ZONE 'UTC'"));
            return conn;
        }
        id_log_error("db.connect", "err", PQerrorMessage(conn), NULL);
        return NULL;
    }
    conn = PQconnectdb(id_db_conninfo);
    if (conn == NULL) {
        return NULL;
    }
    pthread_setspecific(id_db_key, conn); /* now owned by the thread */
    if (PQstatus(conn) != CONNECTION_OK) {
        id_log_error("db.connect", "err", PQerrorMessage(conn), NULL);
        return NULL;
    }
    /* the queries format their timestamps in UTC themselves (user.h); this
     * covers any other timestamp text */
    PQclear(PQexec(conn, "SET TIME ZONE 'UTC'"));
    return conn;
}


PGresult *
id_db_exec(const char *sql, int n, const char *const *params, char sqlstate[6])
{
    int            attempt, in_tx;
    const char    *st;
    PGconn        *conn;
    PGresult      *res = NULL;
    ExecStatusType status;

    if (sqlstate != NULL) {
        sqlstate[0] = '\0';
    }
    for (attempt = 0; attempt < 2; attempt++) {
        conn = id_db_conn();
        if (conn == NULL) {
            return NULL;
        }
        in_tx = PQtransactionStatus(conn) != PQTRANS_IDLE;
        res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
        status = PQresultStatus(res);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            return res;
        }
        st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (sqlstate != NULL && st != NULL) {
            strncpy(sqlstate, st, 5);
            sqlstate[5] = '\0';
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
    return id_db_simple("COMMIT");
}


int
id_db_rollback(void)
{
    PGconn *conn = pthread_getspecific(id_db_key);

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


/* SELECT 1 without blocking for more than ID_DB_PING_MS: readiness must
 * answer even when the server hangs.  A ping that timed out stays
 * outstanding on the connection and is waited for by the next one. */
int
id_db_ping(void)
{
    int             rc = 0, n;
    long            left;
    PGconn         *conn;
    PGresult       *res;
    struct pollfd   pfd;
    struct timespec t0;

    conn = id_db_conn();
    if (conn == NULL) {
        id_db_ping_pending = NULL;
        return -1;
    }
    if (id_db_ping_pending != conn) {
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
