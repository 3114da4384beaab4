/*
 * change.c - the changes of an order after it is placed, each in one
 * transaction with its event on identity.events:
 *
 *   POST /api/v1/orders/{id}/cancel  the buyer, while the order is placed:
 *       cancelled, its stock given back to the products that still
 *       exist; order.cancelled.  Someone else's order 404 (an admin's
 *       look 403: admins see every order, but only a buyer cancels),
 *       an order no longer placed 409.
 *   POST /api/v1/orders/{id}/status {"status":"paid"|"shipped"}  admins:
 *       placed -> paid -> shipped, one step at a time, else 409;
 *       order.status_changed {"from","to"}.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "log.h"
#include "orders.h"
#include "queries.h"
#include "reply.h"

enum { ORDERS_CANCEL, ORDERS_STATUS };


/* The answer for an order whose status does not allow the change. */
static int
orders_reply_conflict(id_http_req_t *r, const char *status, const char *what)
{
    char detail[160];

    snprintf(detail, sizeof(detail), "the order is %s: %s", status, what);
    return id_http_send_problem(r, 409, "order_status_conflict", detail, NULL);
}


static void
orders_change(id_http_req_t *r, int kind)
{
    json_t     *errors, *order = NULL, *extra;
    PGresult   *old = NULL, *res = NULL;
    const char *params[2], *status, *buyer, *to = NULL, *type;

    if (orders_id_only(r) != 0) {
        return;
    }
    if (kind == ORDERS_STATUS) {
        if (!orders_is_admin(r)) {
            id_http_send_problem(r, 403, "forbidden",
                                 "only an admin may change an order's status",
                                 NULL);
            return;
        }
        errors = json_array();
        if (orders_read_status(r->json, &to, errors) != 0) {
            id_reply_invalid(r, errors);
            return;
        }
        json_decref(errors);
    }
    if (id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        return;
    }
    params[0] = r->param;
    old = id_db_exec(ORDERS_SQL_LOCK, 1, params, NULL);
    if (old == NULL) {
        goto unavailable;
    }
    if (PQntuples(old) != 1 || !orders_visible(r, old, 0)) {
        id_db_rollback();
        orders_reply_not_found(r);
        goto done;
    }
    status = id_db_value(old, 0, "status");
    buyer = id_db_value(old, 0, "buyer_id");
    if (kind == ORDERS_CANCEL &&
        (buyer == NULL || strcasecmp(buyer, r->id.sub) != 0)) {
        id_db_rollback();
        id_http_send_problem(r, 403, "forbidden",
                             "only the buyer may cancel an order", NULL);
        goto done;
    }
    if (kind == ORDERS_CANCEL && strcmp(status, "placed") != 0) {
        id_db_rollback();
        orders_reply_conflict(r, status, "only a placed order is cancelled");
        goto done;
    }
    if (kind == ORDERS_STATUS && !orders_next_ok(status, to)) {
        id_db_rollback();
        orders_reply_conflict(r, status,
                              "an order goes placed -> paid -> shipped, "
                              "one step at a time");
        goto done;
    }
    if (kind == ORDERS_CANCEL) {
        to = "cancelled";
        PQclear(res);
        res = id_db_exec(ORDERS_SQL_LOCK_ORDER_PRODUCTS, 1, params, NULL);
        if (res == NULL) {
            goto unavailable;
        }
        PQclear(res);
        res = id_db_exec(ORDERS_SQL_RESTOCK, 1, params, NULL);
        if (res == NULL) {
            goto unavailable;
        }
    }
    params[1] = to;
    PQclear(res);
    res = id_db_exec(ORDERS_SQL_SET_STATUS, 2, params, NULL);
    if (res == NULL) {
        goto unavailable;
    }
    PQclear(res);
    res = id_db_exec(ORDERS_SQL_BY_ID, 1, params, NULL);
    if (res == NULL || PQntuples(res) != 1 ||
        (order = orders_json(res, 0)) == NULL) {
        goto unavailable;
    }
    if (kind == ORDERS_CANCEL) {
        type = "order.cancelled";
        extra = NULL;
    } else {
        type = "order.status_changed";
        extra = json_pack("{s:s, s:s}", "from", status, "to", to);
    }
    if (orders_event(r, type, order, extra) != 0 || id_db_commit() != 0) {
        goto unavailable;
    }
    id_log_info(kind == ORDERS_CANCEL ? "orders.cancelled"
                                      : "orders.status_changed",
                "order", r->param, "status", to, "by", r->id.sub, NULL);
    id_http_send_json(r, 200, order);
    order = NULL; /* now owned by the answer */
    goto done;

unavailable:

    id_db_rollback();
    id_reply_unavailable(r, "the database");

done:

    json_decref(order);
    PQclear(old);
    PQclear(res);
}


void
orders_cancel(id_http_req_t *r)
{
    orders_change(r, ORDERS_CANCEL);
}


void
orders_set_status(id_http_req_t *r)
{
    orders_change(r, ORDERS_STATUS);
}
