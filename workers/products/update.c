/*
 * update.c - PATCH /api/v1/products/{id} (admin): any of the fields
 * (rules.c), at least one.  The fields whose value changes are written,
 * with product.updated naming them, in one transaction; fields given with
 * the values they already have change nothing, and then no event is
 * written.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "problem.h"
#include "products.h"
#include "queries.h"
#include "reply.h"


/* price texts "19.90" and "019.90" are one price: compare in cents */
static long long
products_cents(const char *price)
{
    const char *point = strchr(price, '.');

    return strtoll(price, NULL, 10) * 100 +
           (point != NULL ? strtoll(point + 1, NULL, 10) : 0);
}


static int
products_same(size_t field, const char *cur, const char *v)
{
    if (cur == NULL) {
        return 0;
    }
    if (field == PRODUCTS_F_PRICE) {
        return products_cents(cur) == products_cents(v);
    }
    return strcmp(cur, v) == 0;
}


void
products_update(id_http_req_t *r)
{
    int         n;
    size_t      i;
    char        stock[PRODUCTS_STOCK_BUF];
    json_t     *errors, *changed = NULL;
    PGresult   *old = NULL, *res = NULL;
    const char *v[PRODUCTS_NFIELDS], *params[1 + PRODUCTS_NFIELDS];

    if (products_admin_only(r) != 0 || products_id_only(r) != 0) {
        return;
    }
    errors = json_array();
    n = products_read(r->json, 0, v, stock, errors);
    if (n == 0) {
        id_problem_add_error(errors, "body",
                             "needs at least one of name, description, "
                             "price, stock");
    }
    if (n <= 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    if (id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        return;
    }
    params[0] = r->param;
    old = id_db_exec(PRODUCTS_SQL_LOCK, 1, params, NULL);
    if (old == NULL) {
        goto unavailable;
    }
    if (PQntuples(old) != 1) {
        id_db_rollback();
        products_reply_not_found(r);
        goto done;
    }
    changed = json_array();
    for (i = 0; i < PRODUCTS_NFIELDS; i++) {
        params[1 + i] = NULL;
        if (v[i] != NULL &&
            !products_same(i, id_db_value(old, 0, products_field_name(i)),
                           v[i])) {
            params[1 + i] = v[i];
            json_array_append_new(changed, json_string(products_field_name(i)));
        }
    }
    if (json_array_size(changed) == 0) {
        id_db_rollback();
        id_http_send_json(r, 200, products_json(old, 0));
        goto done;
    }
    res = id_db_exec(PRODUCTS_SQL_UPDATE, 1 + PRODUCTS_NFIELDS, params, NULL);
    if (res == NULL || PQntuples(res) != 1 ||
        products_event(r, "product.updated", res, changed) != 0 ||
        id_db_commit() != 0) {
        goto unavailable;
    }
    id_log_info("products.updated", "product", r->param, "by", r->id.sub, NULL);
    id_http_send_json(r, 200, products_json(res, 0));
    goto done;

unavailable:

    id_db_rollback();
    id_reply_unavailable(r, "the database");

done:

    json_decref(changed);
    PQclear(old);
    PQclear(res);
}
