/*
 * db.c - one libpq connection per thread (see db.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

/* Set once by id_db_init() before threads start. */
static char         *id_db_conninfo;
static pthread_key_t id_db_key;


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


int
id_db_ping(void)
{
    return id_db_simple("SELECT 1");
}
