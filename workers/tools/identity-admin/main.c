/*
 * identity-admin - the operator's commands on accounts, run against the
 * database directly (the API needs an admin to begin with).
 *
 *   identity-admin grant-admin EMAIL    the user becomes an admin (the
 *                                       next login carries the role)
 *   identity-admin revoke-admin EMAIL   the admin becomes a user; every
 *                                       session of theirs is revoked and
 *                                       announced (sessions.h), so the
 *                                       gateways refuse their tokens
 *                                       within 1 s
 *
 * Environment: DATABASE_URL (required), REDIS_URL (revoke-admin; default
 * redis://127.0.0.1:6379), JWT_ACCESS_TTL (how long the revocations are
 * kept in Redis; default 900, the workers').  scripts/identity-admin.sh
 * fills them in for the `make run` stack.
 *
 * Exit status: 0 done (or nothing to do: already so), 1 no user has that
 * email, 2 usage (a missing or invalid argument), 3 PostgreSQL or Redis
 * failed (nothing changed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "json.h"
#include "log.h"
#include "redis.h"
#include "sessions.h"

#define ADMIN_EXIT_OK 0
#define ADMIN_EXIT_NO_USER 1
#define ADMIN_EXIT_USAGE 2
#define ADMIN_EXIT_FAILED 3

#define ADMIN_SQL_FIND                                                         \
    "SELECT id::text AS id, role FROM users WHERE lower(email) = $1"           \
    " FOR UPDATE"
#define ADMIN_SQL_SET_ROLE "UPDATE users SET role = $2 WHERE id = $1"


static void
admin_usage(FILE *f)
{
    fprintf(f, "usage: identity-admin grant-admin EMAIL\n"
               "       identity-admin revoke-admin EMAIL\n"
               "(DATABASE_URL, and REDIS_URL for revoke-admin, in the "
               "environment)\n");
}


/* The seconds of JWT_ACCESS_TTL, 900 when unset; -1 if not a number. */
static long
admin_access_ttl(void)
{
    long        v;
    char       *end;
    const char *s = getenv("JWT_ACCESS_TTL");

    if (s == NULL || s[0] == '\0') {
        return 900;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    return (errno != 0 || *end != '\0' || v < 1) ? -1 : v;
}


/*
 * Sets the role of the user with email to role, in one transaction; for
 * "user", every session of theirs is revoked too (and announced in Redis).
 */
static int
admin_set_role(const char *email, const char *role, long access_ttl)
{
    int         rc = ADMIN_EXIT_FAILED, n = 0;
    char        id[64];
    PGresult   *res;
    const char *params[2] = { email, role }, *v;

    if (id_db_begin() != 0) {
        goto failed;
    }
    res = id_db_exec(ADMIN_SQL_FIND, 1, params, NULL);
    if (res == NULL) {
        goto failed;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        id_db_rollback();
        fprintf(stderr, "identity-admin: no user has the email %s\n", email);
        return ADMIN_EXIT_NO_USER;
    }
    v = id_db_value(res, 0, "role");
    if (v != NULL && strcmp(v, role) == 0) {
        PQclear(res);
        id_db_rollback();
        printf("%s is already %s\n", email,
               strcmp(role, "admin") == 0 ? "an admin" : "not an admin");
        return ADMIN_EXIT_OK;
    }
    snprintf(id, sizeof(id), "%s", id_db_value(res, 0, "id"));
    PQclear(res);
    params[0] = id;
    res = id_db_exec(ADMIN_SQL_SET_ROLE, 2, params, NULL);
    if (res == NULL) {
        goto failed;
    }
    PQclear(res);
    if (strcmp(role, "admin") != 0 &&
        id_sessions_revoke_user(id, NULL, access_ttl, &n) != 0) {
        goto failed;
    }
    if (id_db_commit() != 0) {
        goto failed;
    }
    id_log_info("admin.role_changed", "user", id, "to", role, "by", "cli",
                NULL);
    if (strcmp(role, "admin") == 0) {
        printf("%s is an admin now (from their next login)\n", email);
    } else {
        printf("%s is no longer an admin; %d session%s revoked\n", email, n,
               n == 1 ? "" : "s");
    }
    return ADMIN_EXIT_OK;

failed:

    id_db_rollback();
    fprintf(stderr, "identity-admin: the database or Redis failed, nothing "
                    "changed (see the log lines above)\n");
    return rc;
}


int
main(int argc, char **argv)
{
    long        ttl;
    char        email[256];
    const char *cmd, *db, *redis;

    id_log_init("admin");
    if (argc == 2 &&
        (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        admin_usage(stdout);
        return ADMIN_EXIT_OK;
    }
    if (argc != 3) {
        fprintf(stderr, "identity-admin: %s\n",
                argc < 3 ? "missing arguments" : "too many arguments");
        admin_usage(stderr);
        return ADMIN_EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "grant-admin") != 0 && strcmp(cmd, "revoke-admin") != 0) {
        fprintf(stderr, "identity-admin: unknown command %s\n", cmd);
        admin_usage(stderr);
        return ADMIN_EXIT_USAGE;
    }
    if (id_email_normalize(argv[2], email, sizeof(email)) != 0) {
        fprintf(stderr, "identity-admin: not an email address: %s\n", argv[2]);
        return ADMIN_EXIT_USAGE;
    }
    db = getenv("DATABASE_URL");
    if (db == NULL || db[0] == '\0') {
        fprintf(stderr, "identity-admin: DATABASE_URL is not set\n");
        return ADMIN_EXIT_USAGE;
    }
    ttl = admin_access_ttl();
    if (ttl < 0) {
        fprintf(stderr, "identity-admin: JWT_ACCESS_TTL is not a number of "
                        "seconds\n");
        return ADMIN_EXIT_USAGE;
    }
    if (id_db_init(db) != 0) {
        fprintf(stderr, "identity-admin: DATABASE_URL is not usable\n");
        return ADMIN_EXIT_USAGE;
    }
    if (strcmp(cmd, "grant-admin") == 0) {
        return admin_set_role(email, "admin", ttl);
    }
    redis = getenv("REDIS_URL");
    if (id_redis_init(redis != NULL && redis[0] != '\0'
                          ? redis
                          : "redis://127.0.0.1:6379") != 0) {
        fprintf(stderr, "identity-admin: REDIS_URL is not a Redis URL\n");
        return ADMIN_EXIT_USAGE;
    }
    return admin_set_role(email, "user", ttl);
}
