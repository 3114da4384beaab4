/*
 * read.c - GET /api/v1/products?limit=&offset=&q= and
 * GET /api/v1/products/{id}: the catalogue, for anyone.
 *
 * The answer is the same whoever asks (the gateway caches it for every
 * caller alike, identity-server.conf).  The list is oldest first:
 *   {"products":[...],"count":<on this page>,"total":<matching, all
 *    pages>,"limit","offset"} (the shape of GET /api/v1/users)
 */
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "page.h"
#include "products.h"
#include "queries.h"
#include "reply.h"


void
products_list(id_http_req_t *r)
{
    int             i, rows;
    char            slimit[24], soffset[24], *pattern = NULL;
    json_t         *errors, *products, *product;
    PGresult       *res = NULL;
    const char     *params[3];
    products_page_t page;

    errors = json_array();
    if (products_read_page(id_http_query(r, "limit"),
                           id_http_query(r, "offset"), id_http_query(r, "q"),
                           &page, errors) != 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    if (page.q != NULL && (pattern = id_page_like(page.q)) == NULL) {
        id_reply_unavailable(r, NULL);
        return;
    }
    snprintf(slimit, sizeof(slimit), "%ld", page.limit);
    snprintf(soffset, sizeof(soffset), "%ld", page.offset);
    params[0] = pattern;
    params[1] = slimit;
    params[2] = soffset;
    res = id_db_exec(PRODUCTS_SQL_PAGE, 3, params, NULL);
    if (res == NULL || PQntuples(res) < 1) {
        id_reply_unavailable(r, "the database");
        goto done;
    }
    products = json_array();
    rows = PQntuples(res);
    for (i = 0; i < rows; i++) {
        if (id_db_value(res, i, "id") == NULL) {
            continue; /* the one row of an empty page */
        }
        product = products_json(res, i);
        if (product == NULL || json_array_append_new(products, product) != 0) {
            json_decref(products);
            id_reply_unavailable(r, NULL);
            goto done;
        }
    }
    id_http_send_json(r, 200,
                      id_page_json("products", products,
                                   id_db_value(res, 0, "total"), page.limit,
                                   page.offset));

done:

    free(pattern);
    PQclear(res);
}


void
products_get(id_http_req_t *r)
{
    PGresult   *res;
    const char *params[1];

    if (products_id_only(r) != 0) {
        return;
    }
    params[0] = r->param;
    res = id_db_exec(PRODUCTS_SQL_BY_ID, 1, params, NULL);
    if (res == NULL) {
        id_reply_unavailable(r, "the database");
        return;
    }
    if (PQntuples(res) != 1) {
        products_reply_not_found(r);
    } else {
        id_http_send_json(r, 200, products_json(res, 0));
    }
    PQclear(res);
}
