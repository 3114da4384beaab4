/*
 * create.c - POST /api/v1/products (admin): a new product; 201 with it,
 * and product.created in the same transaction.
 */
#include "db.h"
#include "json.h"
#include "log.h"
#include "products.h"
#include "queries.h"
#include "reply.h"

#define PRODUCTS_REQUIRED                                                      \
    (PRODUCTS_BIT(PRODUCTS_F_NAME) | PRODUCTS_BIT(PRODUCTS_F_PRICE) |          \
     PRODUCTS_BIT(PRODUCTS_F_STOCK))


void
products_create(id_http_req_t *r)
{
    char        stock[PRODUCTS_STOCK_BUF];
    json_t     *errors;
    PGresult   *res = NULL;
    const char *v[PRODUCTS_NFIELDS], *params[PRODUCTS_NFIELDS];

    if (products_admin_only(r) != 0) {
        return;
    }
    errors = json_array();
    if (products_read(r->json, PRODUCTS_REQUIRED, v, stock, errors) < 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    params[0] = v[PRODUCTS_F_NAME];
    params[1] =
        v[PRODUCTS_F_DESCRIPTION] != NULL ? v[PRODUCTS_F_DESCRIPTION] : "";
    params[2] = v[PRODUCTS_F_PRICE];
    params[3] = v[PRODUCTS_F_STOCK];
    if (id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        return;
    }
    res = id_db_exec(PRODUCTS_SQL_INSERT, 4, params, NULL);
    if (res == NULL || PQntuples(res) != 1 ||
        products_event(r, "product.created", res, NULL) != 0 ||
        id_db_commit() != 0) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    id_log_info("products.created", "product", id_db_value(res, 0, "id"), "by",
                r->id.sub, NULL);
    id_http_send_json(r, 201, products_json(res, 0));

done:

    PQclear(res);
}
