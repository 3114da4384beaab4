/*
 * admin.c - what the product handlers share: who may change the
 * catalogue, the id of a route, a product's JSON and its events.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "db.h"
#include "events.h"
#include "outbox.h"
#include "problem.h"
#include "products.h"
#include "reply.h"


int
products_admin_only(id_http_req_t *r)
{
    /* the gateway's forwarded identity (http.h): never a token here */
    if (r->id.sub == NULL) {
        id_http_send_problem(r, 401, "unauthorized",
                             "A valid bearer token is required.", NULL);
        return -1;
    }
    if (r->id.role == NULL || strcmp(r->id.role, "admin") != 0) {
        id_http_send_problem(r, 403, "forbidden",
                             "only an admin may change the catalogue", NULL);
        return -1;
    }
    return 0;
}


int
products_id_only(id_http_req_t *r)
{
    json_t *errors;

    if (r->param != NULL && id_crypto_is_uuid(r->param)) {
        return 0;
    }
    errors = json_array();
    id_problem_add_error(errors, "id", "must be a product id (a UUID)");
    id_reply_invalid(r, errors);
    return -1;
}


int
products_reply_not_found(id_http_req_t *r)
{
    return id_http_send_problem(r, 404, "product_not_found", "no such product",
                                NULL);
}


json_t *
products_json(const PGresult *res, int row)
{
    const char *stock = id_db_value(res, row, "stock");

    return json_pack(
        "{s:s?, s:s?, s:s, s:s?, s:I, s:s?, s:s?}", "id",
        id_db_value(res, row, "id"), "name", id_db_value(res, row, "name"),
        "description",
        id_db_value(res, row, "description") != NULL
            ? id_db_value(res, row, "description")
            : "",
        "price", id_db_value(res, row, "price"), "stock",
        (json_int_t) strtoll(stock != NULL ? stock : "0", NULL, 10),
        "created_at", id_db_value(res, row, "created_at"), "updated_at",
        id_db_value(res, row, "updated_at"));
}


int
products_event(id_http_req_t *r, const char *type, const PGresult *row,
               const json_t *fields)
{
    int         rc = -1;
    json_t     *data, *ev, *product;
    const char *id = id_db_value(row, 0, "id");

    product = products_json(row, 0);
    if (product == NULL || id == NULL || r->id.sub == NULL) {
        json_decref(product);
        return -1;
    }
    data = json_pack("{s:s, s:o}", "by", r->id.sub, "product", product);
    if (data != NULL && fields != NULL &&
        json_object_set(data, "fields", (json_t *) fields) != 0) {
        json_decref(data);
        data = NULL;
    }
    ev = data != NULL ? id_event_identity(type, id, data) : NULL;
    if (ev != NULL) {
        rc = id_outbox_add(ID_TOPIC_EVENTS, id, ev);
    }
    json_decref(ev);
    return rc;
}
