/*
 * identity-realtime - authenticated WebSockets (seed 003's /ws): behind
 * the gateway, which verifies the token (?token=, Authorization, or
 * Sec-WebSocket-Protocol: bearer, <jwt>) and refuses a bad one with 401
 * before any upgrade, a client sends {"recipients":[user ids],
 * "message":"..."} to those users' sockets (none: everyone connected) and
 * receives {"type":"message","from","message","sent_at"} and system
 * frames: "Welcome back, <name>" when it logs in anywhere, the close of
 * its sockets (4001) when its session is revoked.  README.md has the
 * whole contract (frames, close codes, limits) and why it is built so.
 *
 * libwebsockets (Debian's 4.1) serves the sockets on one loop thread;
 * Redis pub/sub carries messages and revocations between processes,
 * Kafka the logins (realtime.h has the threads).
 * Configuration: the table below (environment variables, see env.h).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "env.h"
#include "kafka.h"
#include "log.h"
#include "redis.h"
#include "serve.h"

#include "realtime.h"
#include "ws.h"

static const id_conf_spec_t rt_specs[] = {
    ID_ENV_LISTEN,
    ID_ENV_DATABASE_URL,
    ID_ENV_REDIS_URL,
    ID_ENV_KAFKA_BROKERS,
    ID_KAFKA_CONF_SPECS,
    { "KAFKA_FETCH_WAIT_MAX_MS", ID_CONF_INT, 0, 0, "500", 1, 60000,
      "longest a fetch waits at the broker for messages (the dev/test "
      "stack uses 10)" },
    { "REALTIME_MAX_MESSAGE_BYTES", ID_CONF_INT, 0, 0, "4096", 64, 1048576,
      "largest client message in bytes (closed with 1009 beyond)" },
    { "REALTIME_RATE", ID_CONF_INT, 0, 0, "60", 1, 600000,
      "messages a user may send per minute, all realtime processes "
      "together (GCRA in Redis, as the gateway's identity_limit)" },
    { "REALTIME_BURST", ID_CONF_INT, 0, 0, "0", 0, 600000,
      "messages a user may send at once; 0: REALTIME_RATE" },
    { "REALTIME_MAX_SOCKETS_PER_USER", ID_CONF_INT, 0, 0, "8", 1, 10000,
      "open sockets per user in one realtime process (closed with 4029 "
      "beyond)" },
    { "REALTIME_MAX_QUEUED_BYTES", ID_CONF_INT, 0, 0, "1048576", 4096,
      1073741824,
      "bytes waiting for one slow reader before it is dropped (4008)" },
    { "REALTIME_PING_SECS", ID_CONF_INT, 0, 0, "30", 1, 3600,
      "seconds without traffic before the worker pings a socket" },
    { "REALTIME_IDLE_SECS", ID_CONF_INT, 0, 0, "60", 2, 7200,
      "seconds without traffic (a pong counts) before a socket is "
      "hung up" },
};

static const struct lws_protocols rt_protocols[] = {
    /* the name a browser offers with its token ("bearer, <jwt>"); also
     * the default, for clients that offer no subprotocol */
    { "bearer", rt_ws_callback, sizeof(rt_conn_t), 512, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};


static atomic_int rt_loop_done;


/* Waits for SIGINT/SIGTERM (blocked in every thread) and tells the loop,
 * then wakes it every 100 ms until it is done, so that it can see its
 * deadline (lws_service() sleeps until something happens). */
static void *
rt_signal_main(void *arg)
{
    int                 sig, i;
    rt_item_t          *it;
    struct lws_context *ctx = arg;

    sig = id_http_wait();
    id_log_info("worker.stopping", "signal",
                sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    it = rt_item_new(RT_ITEM_STOP);
    if (it != NULL) {
        rt_inbox_post(it);
    }
    for (i = 0; i < 50 && !atomic_load(&rt_loop_done); i++) {
        usleep(100000);
        lws_cancel_service(ctx);
    }
    return NULL;
}


/* 1 if a process accepts on the unix socket path (a stale socket left by
 * a crash is replaced, a live one never), as http.c does. */
static int
rt_main_socket_in_use(const char *path)
{
    int                fd, used = 0;
    struct sockaddr_un sa;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        return 0; /* lws reports it */
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        used = connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
        close(fd);
    }
    return used;
}


/* Closes the sockets, the listening one first, before the threads are
 * stopped (which may take a second): a successor started on the same path
 * must not lose its socket to this process's lws, which unlinks the path
 * when its context goes.  NULL-safe, once. */
static void
rt_main_close(struct lws_context **ctx)
{
    if (*ctx == NULL) {
        return;
    }
    rt_inbox_close();
    lws_context_destroy(*ctx);
    *ctx = NULL;
}


/* lws's own lines as ours (warnings and errors only). */
static void
rt_lws_log(int level, const char *line)
{
    char   buf[512];
    size_t n;

    snprintf(buf, sizeof(buf), "%s", line);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    id_log_write(level == LLL_ERR ? "error" : "warn", "lws.log", "message", buf,
                 NULL);
}


int
main(void)
{
    int                              rc = 1;
    time_t                           deadline = 0;
    char                             port[8], host[256];
    size_t                           key_len = 0;
    pthread_t                        sig_thread;
    id_conf_t                       *conf;
    rt_app_t                         app;
    rt_limits_t                      limits;
    const char                      *listen, *colon;
    unsigned char                   *key = NULL;
    lws_retry_bo_t                   retry;
    struct lws_context              *ctx = NULL;
    struct lws_context_creation_info info;

    id_log_init("realtime");
    if (id_http_block_signals() != 0) {
        return 1;
    }
    conf = id_conf_load(rt_specs, sizeof(rt_specs) / sizeof(rt_specs[0]));
    if (conf == NULL) {
        return 1;
    }
    memset(&app, 0, sizeof(app));
    if (id_serve_listen_opts(conf, &app.trust, &key, &key_len) != 0) {
        goto err0;
    }
    if (id_db_init(id_conf_str(conf, "DATABASE_URL")) != 0) {
        fprintf(stderr, "config: DATABASE_URL: cannot be used\n");
        goto err0;
    }
    if (id_redis_init(id_conf_str(conf, "REDIS_URL")) != 0) {
        fprintf(stderr, "config: REDIS_URL: not a redis:// or unix:// URL\n");
        goto err0;
    }
    app.max_message = (size_t) id_conf_int(conf, "REALTIME_MAX_MESSAGE_BYTES");
    app.max_queued = (size_t) id_conf_int(conf, "REALTIME_MAX_QUEUED_BYTES");
    app.max_sockets =
        (size_t) id_conf_int(conf, "REALTIME_MAX_SOCKETS_PER_USER");
    limits.rate = id_conf_int(conf, "REALTIME_RATE");
    limits.burst = id_conf_int(conf, "REALTIME_BURST");
    if (limits.burst == 0) {
        limits.burst = limits.rate; /* "rate=N r/m": N in any minute */
    }

    /* a socket must be pinged before it counts as idle, or a client that
     * answers every ping is hung up all the same */
    if (id_conf_int(conf, "REALTIME_PING_SECS") >=
        id_conf_int(conf, "REALTIME_IDLE_SECS")) {
        fprintf(stderr,
                "config: REALTIME_PING_SECS (%ld) must be less than "
                "REALTIME_IDLE_SECS (%ld)\n",
                (long) id_conf_int(conf, "REALTIME_PING_SECS"),
                (long) id_conf_int(conf, "REALTIME_IDLE_SECS"));
        goto err0;
    }

    memset(&retry, 0, sizeof(retry));
    retry.secs_since_valid_ping =
        (uint16_t) id_conf_int(conf, "REALTIME_PING_SECS");
    retry.secs_since_valid_hangup =
        (uint16_t) id_conf_int(conf, "REALTIME_IDLE_SECS");

    lws_set_log_level(LLL_ERR | LLL_WARN, rt_lws_log);
    memset(&info, 0, sizeof(info));
    listen = app.trust.listen;
    if (strncmp(listen, "unix:", 5) == 0) {
        app.on_unix = 1;
        info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
        info.iface = listen + 5;
        if (rt_main_socket_in_use(info.iface)) {
            id_log_error("http.listen", "err",
                         "socket in use by another process", "path", info.iface,
                         NULL);
            goto err0;
        }
        remove(info.iface); /* a stale socket of a previous run */
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL || (size_t) (colon - listen) >= sizeof(host) ||
            strlen(colon + 1) >= sizeof(port)) {
            fprintf(stderr, "config: LISTEN: expected unix:/path or "
                            "host:port\n");
            goto err0;
        }
        memcpy(host, listen, (size_t) (colon - listen));
        host[colon - listen] = '\0';
        info.iface = host[0] != '\0' ? host : NULL;
        info.port = atoi(colon + 1);
        if (key == NULL) {
            id_log_warn("http.unsigned_tcp", "detail",
                        "no IDENTITY_SIGN_KEY_FILE: every socket is refused "
                        "on this TCP listener",
                        NULL);
        }
    }
    info.protocols = rt_protocols;
    info.user = &app;
    info.retry_and_idle_policy = &retry;
    info.max_http_header_data = 8192; /* a JWT in Sec-WebSocket-Protocol */

    ctx = lws_create_context(&info);
    if (ctx == NULL) {
        id_log_error("http.listen", "err", "lws_create_context failed",
                     "listen", listen, NULL);
        goto err0;
    }
    if (app.on_unix &&
        chmod(info.iface,
              app.trust.listen_mode ? app.trust.listen_mode : 0660) != 0) {
        id_log_error("http.listen", "err", "chmod of the socket failed",
                     "listen", listen, NULL);
        goto err1;
    }
    rt_inbox_init(ctx);
    if (rt_jobs_start(&limits) != 0) {
        goto err1;
    }
    if (rt_bus_start() != 0) {
        goto err2;
    }
    if (rt_events_start(id_conf_str(conf, "KAFKA_BROKERS"),
                        (int) id_conf_int(conf, "KAFKA_FETCH_WAIT_MAX_MS")) !=
        0) {
        goto err3;
    }
    if (pthread_create(&sig_thread, NULL, rt_signal_main, ctx) != 0) {
        goto err4;
    }
    id_log_info("http.listening", "listen", listen, NULL);

    /* after the stop: up to 2 s more for the 1001 closes to go out */
    rc = 0;
    while (lws_service(ctx, 0) >= 0) {
        if (app.stopping) {
            if (deadline == 0) {
                deadline = time(NULL) + 2;
            }
            if (app.reg.count == 0 || time(NULL) >= deadline) {
                break;
            }
        }
    }
    atomic_store(&rt_loop_done, 1);
    if (!app.stopping) {
        /* the loop failed on its own: the signal thread still sits in
         * sigwait(), which the signal it waits for ends */
        id_log_error("worker.loop_failed", NULL);
        rc = 1;
        pthread_kill(sig_thread, SIGTERM);
    }
    pthread_join(sig_thread, NULL);

err4:

    rt_main_close(&ctx);
    rt_events_stop();

err3:

    rt_main_close(&ctx);
    rt_bus_stop();

err2:

    rt_main_close(&ctx);
    rt_jobs_stop();

err1:

    rt_main_close(&ctx);

err0:

    if (key != NULL) {
        memset(key, 0, key_len);
        free(key);
    }
    id_conf_free(conf);
    return rc;
}
