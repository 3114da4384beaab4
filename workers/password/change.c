/*
 * change.c - POST /api/v1/password/change {current_password, new_password}
 * (bearer): a new password, proven by the current one; every other session
 * of the user ends, the caller's (X-Identity-Sid) stays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "password.h"
#include "redis.h"
#include "reply.h"

static int
pw_fail_key(const char *user_id, char *out, size_t len)
{
    int n = snprintf(out, len, "identity:pwchange-fails:%s", user_id);

    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}


/*
 * The wrong guesses so far (count 0), after counting one more (count 1), or
 * forgets them (count -1, after a success): >= 0, or -1 on a Redis failure.
 * A stolen access token must not become an unlimited password oracle.
 */
static long long
pw_fails(const char *user_id, int count)
{
    long long   n = -1;
    char        key[128];
    redisReply *rep;

    if (pw_fail_key(user_id, key, sizeof(key)) != 0) {
        return -1;
    }
    if (count > 0) {
        return id_redis_count(key, PW_CHANGE_WINDOW);
    }
    if (count < 0) {
        rep = id_redis_cmd("DEL %s", key);
    } else {
        rep = id_redis_cmd("GET %s", key);
    }
    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_INTEGER) {
        n = rep->integer;
    } else if (rep->type == REDIS_REPLY_STRING) {
        n = strtoll(rep->str, NULL, 10);
    } else if (rep->type == REDIS_REPLY_NIL) {
        n = 0;
    }
    freeReplyObject(rep);
    return n;
}


void
pw_change(id_http_req_t *r)
{
    int         rc;
    long long   fails;
    json_t     *errors;
    pw_user_t   u;
    const char *current, *new_password;
    char        retry[16];

    errors = json_array();
    if (pw_read_change(r->json, &current, &new_password, errors) != 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);

    rc = pw_user_by_id(r->id.sub, &u);
    if (rc != 0) {
        if (rc == 1) {
            id_http_send_problem(r, 401, "unauthorized",
                                 "the account no longer exists", NULL);
        } else {
            id_reply_unavailable(r, "PostgreSQL");
        }
        return;
    }
    errors = json_array();
    if (pw_policy_names(&u, new_password, errors) != 0) {
        id_reply_invalid(r, errors);
        goto done;
    }
    json_decref(errors);
    fails = pw_fails(u.id, 0);
    if (fails < 0) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    if (fails >= PW_CHANGE_FAILS) {
        snprintf(retry, sizeof(retry), "%d", PW_CHANGE_WINDOW);
        id_http_add_header(r, "Retry-After", retry);
        id_http_send_problem(r, 429, "too_many_attempts",
                             "too many wrong passwords; retry later", NULL);
        goto done;
    }
    /* an account without a password (a contested sign-up, until its owner
     * sets one) has no current password to give: always wrong */
    rc = u.password_hash[0] == '\0'
             ? 1
             : id_crypto_password_verify(u.password_hash, current,
                                         strlen(current));
    if (rc != 0) {
        if (rc < 0) {
            /* neither Argon2id nor a bcrypt hash we take: fail closed */
            id_log_warn("password.unverifiable_hash", "user", u.id, NULL);
        }
        pw_fails(u.id, 1);
        id_http_send_problem(r, 403, "invalid_credentials",
                             "the current password is wrong", NULL);
        goto done;
    }
    if (pw_replace(r, &u, new_password, r->id.sid, "change") == 0) {
        pw_fails(u.id, -1);
    }

done:

    pw_user_free(&u);
}
