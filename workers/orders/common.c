/*
 * common.c - what the order handlers share: who the caller is, the id of
 * a route, an order's JSON and its events.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "db.h"
#include "events.h"
#include "orders.h"
#include "outbox.h"
#include "problem.h"
#include "reply.h"


int
orders_is_admin(const id_http_req_t *r)
{
    /* the gateway's forwarded identity (http.h): never a token here */
    return r->id.role != NULL && strcmp(r->id.role, "admin") == 0;
}


int
orders_id_only(id_http_req_t *r)
{
    json_t *errors;

    if (r->param != NULL && id_crypto_is_uuid(r->param)) {
        return 0;
    }
    errors = json_array();
    id_problem_add_error(errors, "id", "must be an order id (a UUID)");
    id_reply_invalid(r, errors);
    return -1;
}


int
orders_reply_not_found(id_http_req_t *r)
{
    return id_http_send_problem(r, 404, "order_not_found", "no such order",
                                NULL);
}


int
orders_visible(const id_http_req_t *r, const PGresult *res, int row)
{
    const char *buyer = id_db_value(res, row, "buyer_id");

    return orders_is_admin(r) || (buyer != NULL && r->id.sub != NULL &&
                                  strcasecmp(buyer, r->id.sub) == 0);
}


json_t *
orders_json(const PGresult *res, int row)
{
    json_t     *items, *order;
    const char *text = id_db_value(res, row, "items");

    items = text != NULL ? json_loads(text, 0, NULL) : json_array();
    if (items == NULL) {
        return NULL;
    }
    order = json_pack("{s:s?, s:s?, s:s?, s:s?, s:o, s:s?, s:s?}", "id",
                      id_db_value(res, row, "id"), "buyer_id",
                      id_db_value(res, row, "buyer_id"), "status",
                      id_db_value(res, row, "status"), "total",
                      id_db_value(res, row, "total"), "items", items,
                      "created_at", id_db_value(res, row, "created_at"),
                      "updated_at", id_db_value(res, row, "updated_at"));
    return order;
}


int
orders_event(id_http_req_t *r, const char *type, const json_t *order,
             json_t *extra)
{
    int         rc = -1;
    json_t     *data, *ev;
    const char *id = json_string_value(json_object_get(order, "id"));

    if (id == NULL || r->id.sub == NULL) {
        json_decref(extra);
        return -1;
    }
    data = json_pack("{s:s, s:O}", "by", r->id.sub, "order", order);
    if (data != NULL && extra != NULL && json_object_update(data, extra) != 0) {
        json_decref(data);
        data = NULL;
    }
    json_decref(extra);
    ev = data != NULL ? id_event_identity(type, id, data) : NULL;
    if (ev != NULL) {
        rc = id_outbox_add(ID_TOPIC_EVENTS, id, ev);
    }
    json_decref(ev);
    return rc;
}
