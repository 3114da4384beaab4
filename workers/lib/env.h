/*
 * env.h - the environment variables every worker shares, as id_conf_spec_t
 * rows (same names and meaning in every worker; see config.h).  A worker
 * puts the ones it uses in its table, e.g.
 *
 *   static const id_conf_spec_t specs[] = {
 *       ID_ENV_LISTEN,
 *       ID_ENV_DATABASE_URL, ID_ENV_REDIS_URL, ID_ENV_HTTP_THREADS,
 *       ID_ENV_MAX_BODY_BYTES,
 *   };
 */
#ifndef ID_ENV_H
#define ID_ENV_H

#include "config.h"

/* Where to listen, who may connect to a unix socket, and whose identity
 * headers count.  The workers trust the gateway's X-Identity-* and X-Real-IP
 * headers: on a unix socket only from the peers TRUSTED_PEER_UIDS /
 * TRUSTED_PEER_GIDS name (SO_PEERCRED; by default the worker's own uid), on
 * TCP only signed with the key of IDENTITY_SIGN_KEY_FILE (nginx's
 * identity_sign_key). */
#define ID_ENV_LISTEN                                                          \
    ID_ENV_LISTEN_ADDR, ID_ENV_LISTEN_MODE, ID_ENV_TRUSTED_PEER_UIDS,          \
        ID_ENV_TRUSTED_PEER_GIDS, ID_ENV_IDENTITY_SIGN_KEY_FILE,               \
        ID_ENV_IDENTITY_SIGN_MAX_AGE
#define ID_ENV_LISTEN_ADDR                                                     \
    {                                                                          \
        "LISTEN", ID_CONF_STRING, 1, 0, NULL, 0, 0,                            \
            "where to listen: unix:/path/to.sock or 127.0.0.1:PORT"            \
    }
#define ID_ENV_LISTEN_MODE                                                     \
    {                                                                          \
        "LISTEN_MODE", ID_CONF_STRING, 0, 0, "0660", 0, 0,                     \
            "permissions of a unix socket, octal (only nginx may connect)"     \
    }
#define ID_ENV_TRUSTED_PEER_UIDS                                               \
    {                                                                          \
        "TRUSTED_PEER_UIDS", ID_CONF_STRING, 0, 0, NULL, 0, 0,                 \
            "unix socket: users (names or uids, comma-separated) whose "       \
            "identity headers count, nginx's; unset: the worker's own"         \
    }
#define ID_ENV_TRUSTED_PEER_GIDS                                               \
    {                                                                          \
        "TRUSTED_PEER_GIDS", ID_CONF_STRING, 0, 0, NULL, 0, 0,                 \
            "unix socket: groups (names or gids) whose identity headers "      \
            "count (the peer's primary group)"                                 \
    }
#define ID_ENV_IDENTITY_SIGN_KEY_FILE                                          \
    {                                                                          \
        "IDENTITY_SIGN_KEY_FILE", ID_CONF_STRING, 0, 0, NULL, 0, 0,            \
            "TCP: file with the key of X-Identity-Signature (nginx's "         \
            "identity_sign_key); unset: identity headers refused on TCP"       \
    }
#define ID_ENV_IDENTITY_SIGN_MAX_AGE                                           \
    {                                                                          \
        "IDENTITY_SIGN_MAX_AGE", ID_CONF_INT, 0, 0, "30", 1, 300,              \
            "TCP: seconds a signature stays valid (either way)"                \
    }
#define ID_ENV_DATABASE_URL                                                    \
    {                                                                          \
        "DATABASE_URL", ID_CONF_STRING, 1, 1, NULL, 0, 0,                      \
            "PostgreSQL conninfo or URI, e.g. postgresql://identity@/identity" \
    }
#define ID_ENV_REDIS_URL                                                       \
    {                                                                          \
        "REDIS_URL", ID_CONF_STRING, 0, 0, "redis://127.0.0.1:6379", 0, 0,     \
            "redis://[:password@]host:port[/db] or unix:///path/redis.sock"    \
    }
#define ID_ENV_KAFKA_BROKERS                                                   \
    {                                                                          \
        "KAFKA_BROKERS", ID_CONF_STRING, 1, 0, NULL, 0, 0,                     \
            "Kafka bootstrap servers host:port[,host:port]"                    \
    }
#define ID_ENV_HTTP_THREADS                                                    \
    {                                                                          \
        "HTTP_THREADS", ID_CONF_INT, 0, 0, "4", 1, 256,                        \
            "HTTP worker threads (each has its own DB and Redis connection)"   \
    }
#define ID_ENV_MAX_BODY_BYTES                                                  \
    {                                                                          \
        "MAX_BODY_BYTES", ID_CONF_INT, 0, 0, "16384", 256, 10485760,           \
            "largest accepted request body in bytes (413 beyond)"              \
    }
#define ID_ENV_JWT_SIGNING_KEY_FILE                                            \
    {                                                                          \
        "JWT_SIGNING_KEY_FILE", ID_CONF_STRING, 1, 0, NULL, 0, 0,              \
            "private JWK / JWK set written by identity-keygen (first key "     \
            "signs)"                                                           \
    }
#define ID_ENV_JWT_ISSUER                                                      \
    {                                                                          \
        "JWT_ISSUER", ID_CONF_STRING, 0, 0, "identity", 0, 0,                  \
            "the iss claim of access tokens (the gateway checks it)"           \
    }
#define ID_ENV_JWT_AUDIENCE                                                    \
    {                                                                          \
        "JWT_AUDIENCE", ID_CONF_STRING, 0, 0, "identity", 0, 0,                \
            "the aud claim of access tokens (the gateway checks it)"           \
    }
#define ID_ENV_JWT_ACCESS_TTL                                                  \
    {                                                                          \
        "JWT_ACCESS_TTL", ID_CONF_INT, 0, 0, "900", 30, 86400,                 \
            "access token lifetime in seconds"                                 \
    }
#define ID_ENV_SESSION_MAX_AGE                                                 \
    {                                                                          \
        "SESSION_MAX_AGE", ID_CONF_INT, 0, 0, "43200", 300, 31536000,          \
            "seconds a session (refresh-token family) lasts after its login, " \
            "however active"                                                   \
    }
#define ID_ENV_SESSION_IDLE_TIMEOUT                                            \
    {                                                                          \
        "SESSION_IDLE_TIMEOUT", ID_CONF_INT, 0, 0, "1800", 60, 31536000,       \
            "seconds a session lasts after its last refresh"                   \
    }
#define ID_ENV_NOTIFY_PUBLIC_KEY                                               \
    {                                                                          \
        "NOTIFY_PUBLIC_KEY", ID_CONF_STRING, 1, 0, NULL, 0, 0,                 \
            "the notify worker's X25519 public key (identity-keygen --alg "    \
            "X25519): codes in notification jobs are sealed to it"             \
    }
#define ID_ENV_OTP_SECRET                                                      \
    {                                                                          \
        "OTP_SECRET", ID_CONF_STRING, 1, 1, NULL, 32, 0,                       \
            "HMAC key for hashing one-time codes, at least 32 characters"      \
    }
#define ID_ENV_ARGON2_MEMORY_KIB                                               \
    {                                                                          \
        "ARGON2_MEMORY_KIB", ID_CONF_INT, 0, 0, "19456", 8, 4194304,           \
            "Argon2id memory cost in KiB (OWASP minimum 19456 with "           \
            "ARGON2_ITERATIONS=2, checked at start-up)"                        \
    }
#define ID_ENV_ARGON2_ITERATIONS                                               \
    {                                                                          \
        "ARGON2_ITERATIONS", ID_CONF_INT, 0, 0, "2", 1, 100,                   \
            "Argon2id time cost (passes)"                                      \
    }
#define ID_ENV_ARGON2_PARALLELISM                                              \
    {                                                                          \
        "ARGON2_PARALLELISM", ID_CONF_INT, 0, 0, "1", 1, 64, "Argon2id lanes"  \
    }

#endif
