/*
 * read.c - GET /api/v1/orders?limit=&offset=&buyer= and
 * GET /api/v1/orders/{id}.
 *
 * A user sees their own orders only (buyer is ignored for them); an admin
 * sees everyone's, or one buyer's with ?buyer=.  Newest first:
 *   {"orders":[...],"count":<on this page>,"total":<matching, all
 *    pages>,"limit","offset"} (the shape of GET /api/v1/products)
 * Someone else's order is a 404, as if it did not exist.
 */
#include <stdio.h>
#include <stdlib.h>

#include "crypto.h"
#include "db.h"
#include "orders.h"
#include "page.h"
#include "queries.h"
#include "reply.h"


void
orders_list(id_http_req_t *r)
{
    int           i, rows;
    char          slimit[24], soffset[24];
    json_t       *errors, *orders, *order;
    PGresult     *res = NULL;
    const char   *params[3];
    orders_page_t page;

    errors = json_array();
    if (orders_read_page(id_http_query(r, "limit"), id_http_query(r, "offset"),
                         id_http_query(r, "buyer"), &page, errors) != 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    if (!orders_is_admin(r) && !id_crypto_is_uuid(r->id.sub)) {
        /* a token that is not a user account's (a service's): no orders */
        id_http_send_problem(r, 403, "forbidden",
                             "only a user account has orders", NULL);
        return;
    }
    snprintf(slimit, sizeof(slimit), "%ld", page.limit);
    snprintf(soffset, sizeof(soffset), "%ld", page.offset);
    params[0] = orders_is_admin(r) ? page.buyer : r->id.sub;
    params[1] = slimit;
    params[2] = soffset;
    res = id_db_exec(ORDERS_SQL_PAGE, 3, params, NULL);
    if (res == NULL || PQntuples(res) < 1) {
        id_reply_unavailable(r, "the database");
        goto done;
    }
    orders = json_array();
    rows = PQntuples(res);
    for (i = 0; i < rows; i++) {
        if (id_db_value(res, i, "id") == NULL) {
            continue; /* the one row of an empty page */
        }
        order = orders_json(res, i);
        if (order == NULL || json_array_append_new(orders, order) != 0) {
            json_decref(orders);
            id_reply_unavailable(r, NULL);
            goto done;
        }
    }
    id_http_send_json(r, 200,
                      id_page_json("orders", orders,
                                   id_db_value(res, 0, "count_all"), page.limit,
                                   page.offset));

done:

    PQclear(res);
}


void
orders_get(id_http_req_t *r)
{
    json_t     *order;
    PGresult   *res;
    const char *params[1];

    if (orders_id_only(r) != 0) {
        return;
    }
    params[0] = r->param;
    res = id_db_exec(ORDERS_SQL_BY_ID, 1, params, NULL);
    if (res == NULL) {
        id_reply_unavailable(r, "the database");
        return;
    }
    if (PQntuples(res) != 1 || !orders_visible(r, res, 0)) {
        orders_reply_not_found(r);
    } else if ((order = orders_json(res, 0)) == NULL) {
        id_reply_unavailable(r, NULL);
    } else {
        id_http_send_json(r, 200, order);
    }
    PQclear(res);
}
