/*
 * db.h - PostgreSQL access for the workers (libpq).
 *
 * One PGconn per thread (libpq "Behavior in Threaded Programs"), opened on
 * first use with the conninfo given to id_db_init() and closed when the
 * thread exits.  A broken connection is reset on the next call; a query that
 * fails because the connection dropped (e.g. PostgreSQL restarted) is retried
 * once on a fresh connection when no transaction was open.
 *
 *   id_db_init(conninfo)   once from main() before threads; 0 ok, -1 error.
 *   id_db_exec(sql, n, params)
 *       runs a parameterised statement ($1..$n, text parameters, NULL =
 *       SQL NULL) on this thread's connection.  A statement with
 *       parameters is prepared on the connection the first time (up to
 *       ID_DB_PREPARED_MAX different texts a connection; more run
 *       unprepared), so PostgreSQL parses and plans it once: the texts are
 *       the workers' fixed queries.  (A pooler between the workers and
 *       PostgreSQL must keep a connection's prepared statements, e.g.
 *       PgBouncer in session mode, or in transaction mode with
 *       max_prepared_statements.)  Returns the PGresult (caller
 *       PQclear()s) when the status is COMMAND_OK or TUPLES_OK, else logs
 *       "db.query" and returns NULL.  *sqlstate (if not NULL) receives the
 *       SQLSTATE of a failure ("" if none) so callers can tell e.g. a unique
 *       violation "23505" from an outage.
 *   id_db_begin() / id_db_commit() / id_db_rollback()  0 ok, -1 error;
 *       id_db_commit() also -1 when PostgreSQL rolled the transaction back
 *       instead (a statement in it had failed).
 *   id_db_value(res, row, column_name)  the text value, NULL if SQL NULL or
 *       no such column (PQfnumber, never positions).
 *   id_db_ping()  SELECT 1 within ID_DB_PING_MS; 0 ok.  For readiness, on a
 *       thread that runs nothing else (http.h's probe thread): a ping that
 *       timed out stays outstanding on the connection until the next.
 */
#ifndef ID_DB_H
#define ID_DB_H

#include <libpq-fe.h>

#define ID_DB_PING_MS 1000    /* readiness: SELECT 1 timeout */
#define ID_DB_PREPARED_MAX 64 /* statements prepared per connection */

int         id_db_init(const char *conninfo);
PGresult   *id_db_exec(const char *sql, int n, const char *const *params,
                       char sqlstate[6]);
int         id_db_begin(void);
int         id_db_commit(void);
int         id_db_rollback(void);
const char *id_db_value(const PGresult *res, int row, const char *column);
int         id_db_ping(void);

#endif
