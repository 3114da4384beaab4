/*
 * serve.c - start, wait, stop (see serve.h).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "redis.h"
#include "relay.h"

#include "log.h"
#include "serve.h"


int
id_serve_deps(const id_conf_t *conf, unsigned need, id_health_t *health,
              id_kafka_producer_t **kafka)
{
    memset(health, 0, sizeof(*health));
    if (kafka != NULL) {
        *kafka = NULL;
    }
    if ((need & ID_SERVE_POSTGRES) &&
        id_db_init(id_conf_str(conf, "DATABASE_URL")) != 0) {
        fprintf(stderr, "config: DATABASE_URL: cannot be used\n");
        return -1;
    }
    if ((need & ID_SERVE_REDIS) &&
        id_redis_init(id_conf_str(conf, "REDIS_URL")) != 0) {
        fprintf(stderr, "config: REDIS_URL: not a redis:// or unix:// URL\n");
        return -1;
    }
    if ((need & ID_SERVE_KAFKA) && kafka != NULL) {
        char err[256];

        *kafka = id_kafka_producer_new(id_conf_str(conf, "KAFKA_BROKERS"), err,
                                       sizeof(err));
        if (*kafka == NULL) {
            id_log_error("kafka.producer", "err", err, NULL);
            fprintf(stderr, "config: KAFKA_BROKERS: %s\n", err);
            return -1;
        }
        health->kafka = *kafka;
        /* best effort: connect now, so that the first request does not
         * pay for it (an unreachable broker is readiness's business) */
        if (id_kafka_ping(*kafka, 3000) != 0) {
            id_log_warn("kafka.unreachable", NULL);
        }
    }
    health->postgres = (need & ID_SERVE_POSTGRES) != 0;
    health->redis = (need & ID_SERVE_REDIS) != 0;
    if ((need & ID_SERVE_OUTBOX) && (need & ID_SERVE_POSTGRES) &&
        kafka != NULL && *kafka != NULL) {
        health->relay =
            id_relay_start(id_conf_str(conf, "DATABASE_URL"), *kafka);
        if (health->relay == NULL) {
            id_log_error("relay.start", "err", "cannot start the thread", NULL);
            id_kafka_producer_free(*kafka);
            *kafka = NULL;
            health->kafka = NULL;
            return -1;
        }
    }
    return 0;
}


void
id_serve_deps_stop(id_health_t *health)
{
    if (health == NULL) {
        return;
    }
    id_relay_stop(health->relay);
    health->relay = NULL;
}


/* Parses an octal file mode ("0660"); NULL means the default (0). */
static int
id_serve_mode(const char *s, unsigned *mode)
{
    char         *end;
    unsigned long v;

    *mode = 0;
    if (s == NULL) {
        return 0;
    }
    v = strtoul(s, &end, 8);
    if (*s == '\0' || *end != '\0' || v > 0777) {
        return -1;
    }
    *mode = (unsigned) v;
    return 0;
}


/* A uid or gid: digits, or a name.  0 ok, -1 unknown. */
static int
id_serve_id(const char *word, int group, unsigned long *out)
{
    char          *end;
    struct group  *gr;
    struct passwd *pw;

    errno = 0;
    *out = strtoul(word, &end, 10);
    if (*word != '\0' && *end == '\0' && errno == 0 && *out < 0xffffffffUL) {
        return 0;
    }
    if (group) {
        gr = getgrnam(word);
        if (gr != NULL) {
            *out = (unsigned long) gr->gr_gid;
            return 0;
        }
    } else {
        pw = getpwnam(word);
        if (pw != NULL) {
            *out = (unsigned long) pw->pw_uid;
            return 0;
        }
    }
    return -1;
}


/* "0,www-data" into uids or gids; -1 with the reason on stderr. */
static int
id_serve_ids(const char *name, const char *list, int group, void *ids,
             size_t *n)
{
    int           rc = 0;
    char         *copy, *word, *save = NULL;
    unsigned long v;

    *n = 0;
    if (list == NULL) {
        return 0;
    }
    copy = strdup(list);
    if (copy == NULL) {
        return -1;
    }
    for (word = strtok_r(copy, ", ", &save); word != NULL;
         word = strtok_r(NULL, ", ", &save)) {
        if (*n == ID_HTTP_MAX_PEERS) {
            fprintf(stderr, "config: %s: at most %d entries\n", name,
                    ID_HTTP_MAX_PEERS);
            rc = -1;
            break;
        }
        if (id_serve_id(word, group, &v) != 0) {
            fprintf(stderr, "config: %s: no such %s: %s\n", name,
                    group ? "group" : "user", word);
            rc = -1;
            break;
        }
        if (group) {
            ((gid_t *) ids)[(*n)++] = (gid_t) v;
        } else {
            ((uid_t *) ids)[(*n)++] = (uid_t) v;
        }
    }
    free(copy);
    return rc;
}


/* The signing key: the file's bytes without a final newline, >= 32 bytes.
 * *key NULL when no file is named.  0 ok, -1 with the reason on stderr. */
static int
id_serve_sign_key(const char *path, unsigned char **key, size_t *len)
{
    FILE         *f;
    size_t        n;
    unsigned char buf[1025];

    *key = NULL;
    *len = 0;
    if (path == NULL) {
        return 0;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "config: IDENTITY_SIGN_KEY_FILE: %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    if (n < 32 || n >= sizeof(buf)) {
        fprintf(stderr,
                "config: IDENTITY_SIGN_KEY_FILE: %s: the key must be "
                "32 to 1024 bytes\n",
                path);
        return -1;
    }
    *key = malloc(n);
    if (*key == NULL) {
        return -1;
    }
    memcpy(*key, buf, n);
    *len = n;
    return 0;
}


struct id_serve {
    id_http_server_t *http;
    unsigned char    *key;
    size_t            key_len;
};


static void
id_serve_free(id_serve_t *s)
{
    if (s->key != NULL) {
        memset(s->key, 0, s->key_len);
        free(s->key);
    }
    free(s);
}


int
id_serve_listen_opts(const id_conf_t *conf, id_http_opts_t *opts,
                     unsigned char **key, size_t *keylen)
{
    *key = NULL;
    *keylen = 0;
    opts->listen = id_conf_str(conf, "LISTEN");
    if (id_serve_mode(id_conf_str(conf, "LISTEN_MODE"), &opts->listen_mode) !=
        0) {
        fprintf(stderr, "config: LISTEN_MODE: expected octal permissions "
                        "such as 0660\n");
        return -1;
    }
    if (id_serve_ids("TRUSTED_PEER_UIDS",
                     id_conf_str(conf, "TRUSTED_PEER_UIDS"), 0, opts->peer_uids,
                     &opts->npeer_uids) != 0 ||
        id_serve_ids("TRUSTED_PEER_GIDS",
                     id_conf_str(conf, "TRUSTED_PEER_GIDS"), 1, opts->peer_gids,
                     &opts->npeer_gids) != 0) {
        return -1;
    }
    if (opts->npeer_uids == 0 && opts->npeer_gids == 0) {
        /* a process of the worker's own user could read its keys anyway */
        opts->peer_uids[0] = geteuid();
        opts->npeer_uids = 1;
    }
    if (id_serve_sign_key(id_conf_str(conf, "IDENTITY_SIGN_KEY_FILE"), key,
                          keylen) != 0) {
        return -1;
    }
    opts->sign_key = *key;
    opts->sign_key_len = *keylen;
    opts->sign_max_age = (unsigned) id_conf_int(conf, "IDENTITY_SIGN_MAX_AGE");
    return 0;
}


id_serve_t *
id_serve_start(const id_conf_t *conf, const id_http_route_t *routes,
               size_t nroutes, void *app, const void *health)
{
    id_serve_t    *s;
    id_http_opts_t opts;

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    memset(&opts, 0, sizeof(opts));
    if (id_serve_listen_opts(conf, &opts, &s->key, &s->key_len) != 0) {
        goto failed;
    }
    opts.threads = (unsigned) id_conf_int(conf, "HTTP_THREADS");
    opts.max_body = (size_t) id_conf_int(conf, "MAX_BODY_BYTES");
    opts.routes = routes;
    opts.nroutes = nroutes;
    opts.app = app;
    opts.health = health;
    s->http = id_http_start(&opts);
    if (s->http == NULL) {
        goto failed;
    }
    if (strncmp(opts.listen, "unix:", 5) != 0 && s->key == NULL) {
        id_log_warn("http.unsigned_tcp", "detail",
                    "no IDENTITY_SIGN_KEY_FILE: requests with identity "
                    "headers are refused on this TCP listener",
                    NULL);
    }
    return s;

failed:

    id_serve_free(s);
    return NULL;
}


void
id_serve_stop(id_serve_t *s)
{
    if (s == NULL) {
        return;
    }
    id_http_stop(s->http);
    id_serve_free(s);
}


int
id_serve(const id_conf_t *conf, const id_http_route_t *routes, size_t nroutes,
         void *app, const void *health)
{
    int         sig;
    id_serve_t *s;

    s = id_serve_start(conf, routes, nroutes, app, health);
    if (s == NULL) {
        return -1;
    }
    sig = id_http_wait();
    id_log_info("worker.stopping", "signal",
                sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    id_serve_stop(s);
    return 0;
}
