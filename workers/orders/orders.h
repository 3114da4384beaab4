/*
 * orders.h - identity-orders: the shop's orders (seed 004).
 *
 * Like identity-products, a service that trusts only the identity the
 * gateway's module forwards (http.h), never a token of its own.  Any
 * signed-in user places orders; the buyer is always the caller.  Placing
 * one takes the stock of its products in the same transaction (locked in
 * product id order: concurrent orders never oversell nor deadlock), and
 * writes order.placed (identity.events) and the buyer's order_placed mail
 * (identity.notifications) to the outbox in that transaction too.
 *
 *   POST /api/v1/orders                   orders_place (signed in)
 *   GET  /api/v1/orders?limit=&offset=&buyer=  orders_list (own; admins
 *                                          all, or one buyer's)
 *   GET  /api/v1/orders/{id}              orders_get (own; admins any)
 *   POST /api/v1/orders/{id}/cancel       orders_cancel (the buyer, while
 *                                          placed: the stock comes back)
 *   POST /api/v1/orders/{id}/status       orders_set_status (admin:
 *                                          placed -> paid -> shipped)
 *
 * An order in JSON: {"id","buyer_id","status","total","items":[{
 * "product_id","name","unit_price","quantity","line_total"}],"created_at",
 * "updated_at"}, money as two-place decimal strings ("59.97").
 */
#ifndef ORDERS_H
#define ORDERS_H

#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "http.h"

void orders_place(id_http_req_t *r);
void orders_list(id_http_req_t *r);
void orders_get(id_http_req_t *r);
void orders_cancel(id_http_req_t *r);
void orders_set_status(id_http_req_t *r);

/*
 * rules.c (pure, unit-tested).
 *
 * orders_read_items(body, items, &n, errors): body's "items", an array of
 * 1..ORDERS_LINES_MAX objects {"product_id": a UUID, "quantity": a JSON
 * integer 1..ORDERS_QUANTITY_MAX}.  A product on two lines is refused (the
 * second line names the first): one line per product keeps the stock check
 * and the 409 about one quantity.  items[i].product_id is the id in lower
 * case.  0 all valid (*n lines), -1 with every problem appended to errors,
 * each naming its field: "items", "items[i]", "items[i].product_id",
 * "items[i].quantity".
 *
 * orders_read_status(body, &status, errors): "status", "paid" or
 * "shipped".  0 ok (borrowed), -1 error appended.
 * orders_next_ok(from, to): 1 if an admin may move an order from status
 * from to status to (placed -> paid, paid -> shipped), else 0.
 */
#define ORDERS_LINES_MAX 100
#define ORDERS_QUANTITY_MAX 1000

typedef struct {
    char product_id[37];
    long quantity;
} orders_item_t;

int orders_read_items(const json_t *body, orders_item_t items[ORDERS_LINES_MAX],
                      size_t *n, json_t *errors);
int orders_read_status(const json_t *body, const char **status, json_t *errors);
int orders_next_ok(const char *from, const char *to);

/*
 * mail.c: orders_lines_text(order) the lines of an order's JSON as the
 * confirmation mail lists them, one a line:
 *   "3 x Mug at 19.99 = 59.97"
 * at most ORDERS_LINES_TEXT_MAX bytes (the template's multiline limit is
 * larger): past it, a last line "... and N more".  malloc'd, NULL on
 * ENOMEM.  Pure.
 */
#define ORDERS_LINES_TEXT_MAX 16000

char *orders_lines_text(const json_t *order);

/*
 * page.c (pure): the list's query arguments: limit 1-200 (50), offset
 * 0-2147483647 (0), buyer a user id (a UUID) or absent.
 */
#define ORDERS_PAGE_DEFAULT 50
#define ORDERS_PAGE_MAX 200
#define ORDERS_OFFSET_MAX 2147483647L

typedef struct {
    long        limit;
    long        offset;
    const char *buyer; /* NULL: no filter (borrowed) */
} orders_page_t;

int orders_read_page(const char *limit, const char *offset, const char *buyer,
                     orders_page_t *page, json_t *errors);

/* common.c: what the handlers share. */
/* 1 if the caller's forwarded identity has the admin role. */
int orders_is_admin(const id_http_req_t *r);
/* 0 if r->param is an order id (a UUID); else answers 422 naming "id". */
int orders_id_only(id_http_req_t *r);
/* 404 order_not_found (also for someone else's order: it is not told
 * apart from one that does not exist). */
int orders_reply_not_found(id_http_req_t *r);
/* An order row (ORDERS_COLUMNS, queries.h) as its JSON; NULL on failure. */
json_t *orders_json(const PGresult *res, int row);
/* 1 if the caller may see the order of that row: its buyer, or an admin. */
int orders_visible(const id_http_req_t *r, const PGresult *res, int row);
/*
 * The event of a change for identity.events, written to the outbox in the
 * open transaction (key and subject the order id, so one order's events
 * keep their order): data {"by": the caller's id, "order": order
 * (borrowed)} and the members of extra (stolen, may be NULL).  0 written,
 * -1 not.
 */
int orders_event(id_http_req_t *r, const char *type, const json_t *order,
                 json_t *extra);

#endif
