/*
 * ws.h - the WebSocket side (ws.c): lws's callback for /ws and the few
 * HTTP answers, on the loop thread.
 *
 * A socket is accepted only with the gateway's identity (X-Identity-Sub,
 * -Sid, -Exp ...) from a trusted peer: on a unix socket a peer that
 * TRUSTED_PEER_UIDS / _GIDS names (SO_PEERCRED), on TCP with a valid
 * X-Identity-Signature (http.h); anything else is refused before the
 * upgrade.  The subprotocol "bearer" is selected when offered (the
 * browser's way of sending a token: "Sec-WebSocket-Protocol: bearer,
 * <jwt>", checked by the gateway); no subprotocol is fine too.
 */
#ifndef RT_WS_H
#define RT_WS_H

#include <stddef.h>

#include <libwebsockets.h>

#include "http.h"
#include "registry.h"

typedef struct {
    rt_registry_t  reg;
    id_http_opts_t trust; /* peers and signing key (serve.h) */
    int            on_unix;
    size_t         max_message; /* bytes of one client message */
    size_t         max_queued;  /* bytes queued for one slow reader */
    size_t         max_sockets; /* per user, in this process */
    int            stopping;
} rt_app_t;

int rt_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len);

#endif
