/*
 * ws.c - the sockets (see ws.h): upgrade, identity, the client's messages
 * (to the jobs thread), delivery from the inbox, the closes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "problem.h"

#include "realtime.h"
#include "ws.h"

const size_t rt_out_headroom = LWS_PRE;


/* A request header the gateway sets (lws keeps unknown headers by their
 * lower-case name with the colon).  0 ok, 1 absent ("" in out), -1 too
 * long for out. */
static int
rt_ws_header(struct lws *wsi, const char *name, char *out, size_t outlen)
{
    int n, nlen = (int) strlen(name);

    out[0] = '\0';
    n = lws_hdr_custom_length(wsi, name, nlen);
    if (n < 0) {
        return 1;
    }
    if ((size_t) n >= outlen) {
        return -1;
    }
    if (lws_hdr_custom_copy(wsi, out, (int) outlen, name, nlen) < 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}


/* Whether this peer's identity headers count (ws.h). */
static int
rt_ws_trusted(rt_app_t *app, struct lws *wsi, char *const hv[7])
{
    int          fd;
    char         path[256], sig[256];
    socklen_t    len;
    const char  *values[7];
    struct ucred cred;
    size_t       i;

    if (app->on_unix) {
        fd = lws_get_socket_fd(wsi);
        len = sizeof(cred);
        if (fd < 0 ||
            getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
            return 0;
        }
        return id_http_peer_trusted_ids(&app->trust, cred.uid, cred.gid);
    }
    if (rt_ws_header(wsi, "x-identity-signature:", sig, sizeof(sig)) != 0 ||
        lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) < 0) {
        return 0;
    }
    for (i = 0; i < 7; i++) {
        values[i] = hv[i][0] != '\0' ? hv[i] : NULL;
    }
    return id_http_sign_check(sig, app->trust.sign_key, app->trust.sign_key_len,
                              app->trust.sign_max_age, (long long) time(NULL),
                              "GET", path, values);
}


/* Reads the identity into c; 0 ok, -1 refused (logged). */
static int
rt_ws_identity(rt_app_t *app, struct lws *wsi, rt_conn_t *c)
{
    /* the order of id_http_sign_message(): X-Real-IP, Sub, Role, Email,
     * Sid, Jti, Exp; each buffer holds the longest value that header may
     * have (an address, ids, an email of up to 320 bytes, a number) */
    static const char *names[7] = {
        "x-real-ip:",        "x-identity-sub:", "x-identity-role:",
        "x-identity-email:", "x-identity-sid:", "x-identity-jti:",
        "x-identity-exp:",
    };
    char   ip[64], sub[RT_ID_MAX], role[64], email[321], sid[RT_ID_MAX];
    char   jti[RT_ID_MAX], expv[24];
    char  *hv[7] = { ip, sub, role, email, sid, jti, expv };
    size_t lens[7] = { sizeof(ip),  sizeof(sub), sizeof(role), sizeof(email),
                       sizeof(sid), sizeof(jti), sizeof(expv) };
    size_t i;
    int    too_long = 0;

    for (i = 0; i < 7; i++) {
        if (rt_ws_header(wsi, names[i], hv[i], lens[i]) < 0) {
            too_long = 1; /* refused below, never read as absent */
        }
    }
    if (!rt_ws_trusted(app, wsi, hv)) {
        id_log_warn("realtime.untrusted", "detail",
                    "identity headers must come from the gateway", NULL);
        return -1;
    }
    if (too_long) {
        id_log_warn("realtime.header_too_long", NULL);
        return -1;
    }
    /* every access token of ours names its session: without one, neither
     * logout nor the greeting would find the socket */
    if (sub[0] == '\0' || sid[0] == '\0' || rt_parse_exp(expv, &c->exp) != 0) {
        id_log_warn("realtime.no_identity", NULL);
        return -1;
    }
    memcpy(c->user, sub, strlen(sub) + 1);
    memcpy(c->sid, sid, strlen(sid) + 1);
    return 0;
}


/* Closes c at its next writeable with code and reason (logged once). */
static void
rt_ws_close(rt_conn_t *c, int code, const char *reason)
{
    char n[16];

    if (c->close_code != 0) {
        return;
    }
    c->close_code = code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    snprintf(n, sizeof(n), "%d", code);
    id_log_info("realtime.close", "user", c->user, "code", n, "reason", reason,
                NULL);
    lws_callback_on_writable(c->wsi);
}


/* Queues frame for c; a reader whose queue would pass max_queued is
 * dropped instead (4008, killed after 2 s if even that cannot go). */
static void
rt_ws_send(rt_app_t *app, rt_conn_t *c, const char *frame)
{
    int rc;

    if (c->close_code != 0) {
        return;
    }
    rc = rt_reg_enqueue(c, frame, strlen(frame), app->max_queued);
    if (rc == 1) {
        id_log_warn("realtime.slow_reader", "user", c->user, NULL);
        rt_reg_drop_queue(c);
        rt_ws_close(c, RT_CLOSE_SLOW, "too slow to read");
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 2);
        return;
    }
    if (rc == 0) {
        lws_callback_on_writable(c->wsi);
    }
}


/* users: rt_bus_decode()'s list (strings only), NULL for everyone. */
static int
rt_ws_wanted(const json_t *users, const char *user)
{
    size_t      i;
    const char *id;

    if (users == NULL) {
        return 1;
    }
    for (i = 0; i < json_array_size(users); i++) {
        id = json_string_value(json_array_get(users, i));
        if (id != NULL && strcmp(id, user) == 0) {
            return 1;
        }
    }
    return 0;
}


/* One of c's messages is back from the jobs thread, with frame (an error
 * for the sender) or NULL: c may be read again below the cap. */
static void
rt_ws_job_done(rt_app_t *app, rt_conn_t *c, const char *frame)
{
    if (c->jobs > 0) {
        c->jobs--;
    }
    if (frame != NULL) {
        rt_ws_send(app, c, frame);
    }
    if (c->rx_paused && c->jobs < RT_CONN_JOBS_MAX && c->close_code == 0) {
        c->rx_paused = 0;
        lws_rx_flow_control(c->wsi, 1);
    }
}


/* A login of user (session sid): the welcome for the user's sockets here,
 * but those of that session, if there are any; the name's lookup is not
 * worth a query otherwise. */
static void
rt_ws_login(rt_app_t *app, const char *user, const char *sid)
{
    rt_conn_t *c;
    rt_job_t  *j;

    for (c = app->reg.head; c != NULL; c = c->next) {
        if (strcmp(c->user, user) == 0 && strcmp(c->sid, sid) != 0) {
            break;
        }
    }
    if (c == NULL) {
        return;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return; /* a welcome: not worth more */
    }
    j->kind = RT_JOB_WELCOME;
    memcpy(j->user, user, sizeof(j->user));
    memcpy(j->sid, sid, sizeof(j->sid));
    rt_jobs_post(j); /* logged if full */
}


static void
rt_ws_drain(rt_app_t *app)
{
    rt_item_t *it, *next;
    rt_conn_t *c, *cn;

    for (it = rt_inbox_take(); it != NULL; it = next) {
        next = it->next;
        switch (it->kind) {
        case RT_ITEM_TO_USERS:
            for (c = app->reg.head; c != NULL; c = cn) {
                cn = c->next;
                if (rt_ws_wanted(it->users, c->user) &&
                    (it->sid[0] == '\0' || strcmp(c->sid, it->sid) != 0)) {
                    rt_ws_send(app, c, it->frame);
                }
            }
            break;
        case RT_ITEM_LOGIN:
            rt_ws_login(app, it->user, it->sid);
            break;
        case RT_ITEM_TO_CONN:
            c = rt_reg_find(&app->reg, it->conn);
            if (c != NULL) {
                rt_ws_send(app, c, it->frame);
            }
            break;
        case RT_ITEM_CLOSE_CONN:
            c = rt_reg_find(&app->reg, it->conn);
            if (c != NULL) {
                rt_ws_close(c, it->code, it->reason);
            }
            break;
        case RT_ITEM_CLOSE_SID:
            for (c = app->reg.head; c != NULL; c = c->next) {
                if (c->sid[0] != '\0' && strcmp(c->sid, it->sid) == 0) {
                    rt_ws_close(c, RT_CLOSE_REVOKED, "session revoked");
                }
            }
            break;
        case RT_ITEM_CLOSE_SIDS:
            /* after the bus resubscribed: revocations it may have missed */
            for (c = app->reg.head; c != NULL; c = c->next) {
                if (c->sid[0] != '\0' &&
                    json_object_get(it->sids, c->sid) != NULL) {
                    rt_ws_close(c, RT_CLOSE_REVOKED, "session revoked");
                }
            }
            break;
        case RT_ITEM_JOB_DONE:
            c = rt_reg_find(&app->reg, it->conn);
            if (c != NULL) {
                rt_ws_job_done(app, c, it->frame);
            }
            break;
        case RT_ITEM_STOP:
            app->stopping = 1;
            for (c = app->reg.head; c != NULL; c = c->next) {
                rt_ws_close(c, RT_CLOSE_SHUTDOWN, "server stopping");
            }
            break;
        }
        rt_item_free(it);
    }
}


/* The timer for c's exp; a far exp is reached in steps of at most
 * RT_EXP_STEP_SECS (LWS_CALLBACK_TIMER arms the next), so that the
 * microseconds cannot overflow. */
static void
rt_ws_arm_expiry(rt_conn_t *c, long long now)
{
    long long secs = c->exp - now;

    if (secs > RT_EXP_STEP_SECS) {
        secs = RT_EXP_STEP_SECS;
    }
    lws_set_timer_usecs(c->wsi, (lws_usec_t) secs * LWS_US_PER_SEC);
}


static void
rt_ws_established(rt_app_t *app, struct lws *wsi, rt_conn_t *c)
{
    long long now = (long long) time(NULL);
    rt_job_t *j;

    c->wsi = wsi;
    if (rt_reg_count_user(&app->reg, c->user) >= app->max_sockets) {
        id_log_info("realtime.too_many_sockets", "user", c->user, NULL);
        rt_ws_close(c, RT_CLOSE_TOO_MANY, "too many sockets for this user");
        return;
    }
    rt_reg_add(&app->reg, c);
    if (c->exp <= now) {
        rt_ws_close(c, RT_CLOSE_EXPIRED, "token expired");
        return;
    }
    /* the token's end: closed then, whatever the client does */
    rt_ws_arm_expiry(c, now);
    id_log_info("realtime.open", "user", c->user, "sid", c->sid, NULL);
    /* the revoked-at-upgrade check must run: without it, no socket */
    j = calloc(1, sizeof(*j));
    if (j != NULL) {
        j->kind = RT_JOB_OPENED;
        j->conn = c->id;
        j->exp = c->exp;
        memcpy(j->user, c->user, sizeof(j->user));
        memcpy(j->sid, c->sid, sizeof(j->sid));
    }
    if (j == NULL || rt_jobs_post(j) != 0) {
        rt_ws_close(c, RT_CLOSE_TRY_AGAIN, "try again later");
    }
}


/* An error frame for c (nothing if even that cannot be made). */
static void
rt_ws_error(rt_app_t *app, rt_conn_t *c, const char *code, const char *detail)
{
    char *frame = rt_frame_error(code, detail, -1);

    if (frame != NULL) {
        rt_ws_send(app, c, frame);
        free(frame);
    }
}


/* Hands a valid message to the jobs thread (taking msg) and stops reading
 * c while RT_CONN_JOBS_MAX of its messages are there; answers an error
 * frame if it cannot. */
static void
rt_ws_submit(rt_app_t *app, struct lws *wsi, rt_conn_t *c, rt_msg_t *msg)
{
    rt_job_t *j;

    if (c->jobs >= RT_CONN_JOBS_MAX) {
        /* read before the pause took effect */
        rt_msg_clear(msg);
        rt_ws_error(app, c, "busy", "too many messages waiting, try again");
        return;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL || (j->done = rt_item_new(RT_ITEM_JOB_DONE)) == NULL) {
        free(j);
        rt_msg_clear(msg);
        rt_ws_error(app, c, "unavailable", "out of memory, try again");
        return;
    }
    j->kind = RT_JOB_SEND;
    j->conn = c->id;
    j->done->conn = c->id;
    memcpy(j->user, c->user, sizeof(j->user));
    j->msg = *msg; /* now owned by the job */
    memset(msg, 0, sizeof(*msg));
    if (rt_jobs_post(j) != 0) {
        rt_ws_error(app, c, "busy", "too many messages waiting, try again");
        return;
    }
    c->jobs++;
    if (c->jobs >= RT_CONN_JOBS_MAX && !c->rx_paused) {
        c->rx_paused = 1;
        lws_rx_flow_control(wsi, 0);
        if (!c->rx_logged) {
            c->rx_logged = 1; /* once a socket: a flood would repeat it */
            id_log_info("realtime.rx_paused", "user", c->user, NULL);
        }
    }
}


/* A client's frame (or a fragment of one).  -1: close now (the reason is
 * set). */
static int
rt_ws_receive(rt_app_t *app, struct lws *wsi, rt_conn_t *c, const char *in,
              size_t len)
{
    char     detail[200], *p;
    rt_msg_t msg;

    if (c->close_code != 0 || !c->linked) {
        return 0; /* closing: nothing more is read */
    }
    if (c->rx_len + len > app->max_message) {
        id_log_info("realtime.too_big", "user", c->user, NULL);
        lws_close_reason(wsi, RT_CLOSE_TOO_BIG,
                         (unsigned char *) "message too big", 15);
        return -1;
    }
    p = realloc(c->rx, c->rx_len + len + 1);
    if (p == NULL) {
        return -1;
    }
    c->rx = p;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0) {
        return 0;
    }
    if (lws_frame_is_binary(wsi)) {
        snprintf(detail, sizeof(detail), "text frames only");
        goto bad;
    }
    if (rt_msg_parse(c->rx, c->rx_len, &msg, detail, sizeof(detail)) != 0) {
        goto bad;
    }
    c->rx_len = 0;
    rt_ws_submit(app, wsi, c, &msg);
    return 0;

bad:

    c->rx_len = 0;
    rt_ws_error(app, c, "bad_message", detail);
    return 0;
}


static int
rt_ws_writeable(struct lws *wsi, rt_conn_t *c)
{
    int       n;
    rt_out_t *o;

    if (c->close_code != 0) {
        lws_close_reason(wsi, (enum lws_close_status) c->close_code,
                         (unsigned char *) c->close_reason,
                         strlen(c->close_reason));
        return -1;
    }
    o = rt_reg_dequeue(c);
    if (o == NULL) {
        return 0;
    }
    n = lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
    free(o);
    if (n < 0) {
        return -1;
    }
    if (c->out_head != NULL) {
        lws_callback_on_writable(wsi);
    }
    return 0;
}


/*
 * Writes one whole HTTP/1.1 answer.  Written by hand: lws would start it
 * with "HTTP/1.0" before an upgrade (it has not read the request's
 * version then), which WebSocket clients refuse to read.  0 ok, -1 the
 * connection failed.
 */
static int
rt_ws_answer(struct lws *wsi, unsigned status, const char *ctype,
             const char *body)
{
    int           n;
    unsigned char out[LWS_PRE + 1536];

    n = snprintf((char *) out + LWS_PRE, sizeof(out) - LWS_PRE,
                 "HTTP/1.1 %u %s\r\ncontent-type: %s\r\ncontent-length: %zu"
                 "\r\ncache-control: no-store\r\n\r\n%s",
                 status, status == 200 ? "OK" : id_problem_title((int) status),
                 ctype, strlen(body), body);
    if (n < 0 || (size_t) n >= sizeof(out) - LWS_PRE) {
        return -1;
    }
    return lws_write(wsi, out + LWS_PRE, (size_t) n, LWS_WRITE_HTTP_FINAL) < n
               ? -1
               : 0;
}


/* A problem+json answer (problem.h), like every worker's refusals. */
static int
rt_ws_problem(struct lws *wsi, unsigned status, const char *code,
              const char *detail)
{
    int     rc = -1;
    char   *text;
    json_t *body;

    body = id_problem_new((int) status, code, detail, NULL);
    text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    if (text != NULL) {
        rc = rt_ws_answer(wsi, status, ID_PROBLEM_CONTENT_TYPE, text);
    }
    free(text);
    json_decref(body);
    return rc;
}


/* The HTTP answers: liveness like every worker (health.h); anything else
 * on this socket is not a WebSocket upgrade. */
static int
rt_ws_http(struct lws *wsi, const char *path)
{
    if (strcmp(path, "/health/live") != 0 &&
        strcmp(path, "/api/health/live") != 0) {
        rt_ws_problem(wsi, 426, "upgrade_required",
                      "a WebSocket upgrade is expected here");
        return -1;
    }
    if (rt_ws_answer(wsi, HTTP_STATUS_OK, "application/json",
                     "{\"status\":\"alive\"}\n") != 0) {
        return -1;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}


/* Before the upgrade: refused with a 401 (or 503 while stopping) unless
 * the gateway's identity is there, from a trusted peer.  1: answered. */
static int
rt_ws_confirm(rt_app_t *app, struct lws *wsi)
{
    rt_conn_t probe;

    if (app->stopping) {
        rt_ws_problem(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                      "the server is stopping");
        return 1;
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS) > 0) {
        /* seed 003's clients put the token there: the gateway must not
         * pass it on (proxy_pass ...$uri), or it reaches logs upstream;
         * the value itself is never logged */
        id_log_warn("realtime.query_string", "detail",
                    "the upgrade came with a query string, which may carry "
                    "a token: the gateway should not pass it",
                    NULL);
    }
    memset(&probe, 0, sizeof(probe));
    if (rt_ws_identity(app, wsi, &probe) != 0) {
        rt_ws_problem(wsi, HTTP_STATUS_UNAUTHORIZED, "unauthorized",
                      "the gateway's identity is required");
        return 1;
    }
    return 0;
}


int
rt_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
               void *in, size_t len)
{
    rt_app_t  *app = lws_context_user(lws_get_context(wsi));
    rt_conn_t *c = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return rt_ws_http(wsi, in != NULL ? (const char *) in : "");

    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return rt_ws_confirm(app, wsi);

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (app->stopping || c == NULL || rt_ws_identity(app, wsi, c) != 0) {
            return 1; /* no upgrade */
        }
        return 0;

    case LWS_CALLBACK_ESTABLISHED:
        rt_ws_established(app, wsi, c);
        return 0;

    case LWS_CALLBACK_RECEIVE:
        return rt_ws_receive(app, wsi, c, in, len);

    case LWS_CALLBACK_SERVER_WRITEABLE:
        return rt_ws_writeable(wsi, c);

    case LWS_CALLBACK_TIMER:
        if (c->exp > (long long) time(NULL)) {
            rt_ws_arm_expiry(c, (long long) time(NULL)); /* a step */
            return 0;
        }
        rt_ws_close(c, RT_CLOSE_EXPIRED, "token expired");
        return 0;

    case LWS_CALLBACK_CLOSED:
        rt_reg_remove(&app->reg, c);
        rt_reg_drop_queue(c);
        free(c->rx);
        c->rx = NULL;
        return 0;

    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (app != NULL) {
            rt_ws_drain(app);
        }
        return 0;

    default:
        return 0;
    }
}
