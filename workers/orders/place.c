/*
 * place.c - POST /api/v1/orders (signed in): {"items":[{"product_id",
 * "quantity"}]} -> 201 with the order, the buyer the caller.
 *
 * One transaction: the products locked in id order (queries.h), every
 * line checked against them (an unknown product 422, a line short of
 * stock 409 naming each such product: nothing is changed, no partial
 * order), then the stock taken, the order and its lines written, and
 * order.placed and the buyer's order_placed mail put in the outbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "db.h"
#include "events.h"
#include "log.h"
#include "orders.h"
#include "outbox.h"
#include "problem.h"
#include "queries.h"
#include "reply.h"

/* the text of a PostgreSQL array of ids and one of quantities */
typedef struct {
    char ids[ORDERS_LINES_MAX * 38 + 3];
    char quantities[ORDERS_LINES_MAX * 6 + 3];
} orders_arrays_t;


static void
orders_arrays(const orders_item_t *items, size_t n, orders_arrays_t *a)
{
    size_t i, ui = 0, uq = 0;

    a->ids[ui++] = '{';
    a->quantities[uq++] = '{';
    for (i = 0; i < n; i++) {
        ui += (size_t) snprintf(a->ids + ui, sizeof(a->ids) - ui, "%s%s",
                                i > 0 ? "," : "", items[i].product_id);
        uq += (size_t) snprintf(a->quantities + uq, sizeof(a->quantities) - uq,
                                "%s%ld", i > 0 ? "," : "", items[i].quantity);
    }
    snprintf(a->ids + ui, sizeof(a->ids) - ui, "}");
    snprintf(a->quantities + uq, sizeof(a->quantities) - uq, "}");
}


/* The locked row of a product id, or -1. */
static int
orders_row_of(const PGresult *res, const char *id)
{
    int         i, rows = PQntuples(res);
    const char *v;

    for (i = 0; i < rows; i++) {
        v = id_db_value(res, i, "id");
        if (v != NULL && strcmp(v, id) == 0) {
            return i;
        }
    }
    return -1;
}


/*
 * Checks every line against the locked products.  0 all there and in
 * stock; else the answer is sent (rolled back first) and -1.
 */
static int
orders_check(id_http_req_t *r, const orders_item_t *items, size_t n,
             const PGresult *products)
{
    int         row;
    char        field[48], msg[128];
    size_t      i;
    json_t     *unknown, *short_of, *names;
    const char *stock;

    unknown = json_array();
    short_of = json_array();
    names = json_array();
    for (i = 0; i < n; i++) {
        row = orders_row_of(products, items[i].product_id);
        if (row < 0) {
            snprintf(field, sizeof(field), "items[%zu].product_id", i);
            id_problem_add_error(unknown, field, "no such product");
            continue;
        }
        stock = id_db_value(products, row, "stock");
        if (stock != NULL && strtol(stock, NULL, 10) < items[i].quantity) {
            snprintf(field, sizeof(field), "items[%zu].quantity", i);
            snprintf(msg, sizeof(msg), "only %.12s in stock of product %.36s",
                     stock, items[i].product_id);
            id_problem_add_error(short_of, field, msg);
            json_array_append_new(names, json_string(items[i].product_id));
        }
    }
    if (json_array_size(unknown) == 0 && json_array_size(short_of) == 0) {
        json_decref(unknown);
        json_decref(short_of);
        json_decref(names);
        return 0;
    }
    id_db_rollback();
    if (json_array_size(unknown) > 0) {
        id_reply_invalid(r, unknown);
        unknown = NULL;
    } else {
        char *list = json_dumps(names, JSON_COMPACT);
        char  detail[64 + ORDERS_LINES_MAX * 40];

        snprintf(detail, sizeof(detail),
                 "not enough stock for the products %s: nothing was ordered",
                 list != NULL ? list : "");
        free(list);
        id_http_send_problem(r, 409, "insufficient_stock", detail, short_of);
    }
    json_decref(unknown);
    json_decref(short_of);
    json_decref(names);
    return -1;
}


/* The buyer's order_placed mail, in the open transaction.  0 or -1. */
static int
orders_mail(const PGresult *buyer, const json_t *order)
{
    int         rc;
    char       *lines;
    json_t     *job;
    const char *email = id_db_value(buyer, 0, "email");
    const char *name = id_db_value(buyer, 0, "name");

    if (name == NULL || name[0] == '\0') {
        name = id_db_value(buyer, 0, "first_name");
    }
    lines = orders_lines_text(order);
    if (email == NULL || lines == NULL) {
        free(lines);
        return -1;
    }
    job = id_event_job(
        "email", email, "order_placed",
        json_pack("{s:s, s:s?, s:s?, s:s}", "name",
                  name != NULL && name[0] != '\0' ? name : "there", "order_id",
                  json_string_value(json_object_get(order, "id")), "total",
                  json_string_value(json_object_get(order, "total")), "lines",
                  lines));
    free(lines);
    rc = job != NULL ? id_outbox_add(ID_TOPIC_NOTIFICATIONS, email, job) : -1;
    json_decref(job);
    return rc;
}


void
orders_place(id_http_req_t *r)
{
    size_t          n;
    json_t         *errors, *order = NULL;
    PGresult       *buyer = NULL, *products = NULL, *placed = NULL, *res = NULL;
    const char     *params[3], *id;
    orders_item_t   items[ORDERS_LINES_MAX];
    orders_arrays_t arrays;

    if (!id_crypto_is_uuid(r->id.sub)) {
        /* a token that is not a user account's (a service's): no buyer */
        id_http_send_problem(r, 403, "forbidden",
                             "only a user account may place orders", NULL);
        return;
    }
    errors = json_array();
    if (orders_read_items(r->json, items, &n, errors) != 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    orders_arrays(items, n, &arrays);
    if (id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        return;
    }
    params[0] = r->id.sub;
    buyer = id_db_exec(ORDERS_SQL_BUYER, 1, params, NULL);
    if (buyer == NULL) {
        goto unavailable;
    }
    if (PQntuples(buyer) != 1) {
        /* a valid token of an account deleted since */
        id_db_rollback();
        id_http_send_problem(r, 401, "unauthorized",
                             "the account no longer exists", NULL);
        goto done;
    }
    params[0] = arrays.ids;
    products = id_db_exec(ORDERS_SQL_LOCK_PRODUCTS, 1, params, NULL);
    if (products == NULL) {
        goto unavailable;
    }
    if (orders_check(r, items, n, products) != 0) {
        goto done;
    }
    params[0] = r->id.sub;
    params[1] = arrays.ids;
    params[2] = arrays.quantities;
    placed = id_db_exec(ORDERS_SQL_PLACE, 3, params, NULL);
    if (placed == NULL || PQntuples(placed) != 1 ||
        (id = id_db_value(placed, 0, "id")) == NULL) {
        goto unavailable;
    }
    params[0] = id;
    res = id_db_exec(ORDERS_SQL_BY_ID, 1, params, NULL);
    if (res == NULL || PQntuples(res) != 1 ||
        (order = orders_json(res, 0)) == NULL) {
        goto unavailable;
    }
    /* events before jobs (outbox.h) */
    if (orders_event(r, "order.placed", order, NULL) != 0 ||
        orders_mail(buyer, order) != 0 || id_db_commit() != 0) {
        goto unavailable;
    }
    id_log_info("orders.placed", "order", id, "by", r->id.sub, NULL);
    id_http_send_json(r, 201, order);
    order = NULL; /* now owned by the answer */
    goto done;

unavailable:

    id_db_rollback();
    id_reply_unavailable(r, "the database");

done:

    json_decref(order);
    PQclear(buyer);
    PQclear(products);
    PQclear(placed);
    PQclear(res);
}
