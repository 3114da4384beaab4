/*
 * products.h - identity-products: the shop's catalogue (seed 004).
 *
 * A service that is not about identity: it trusts only the identity the
 * gateway's module forwards (http.h: X-Identity-* believed from trusted
 * peers or signed), never a token of its own.  Anyone reads the
 * catalogue; admins change it, and each change writes its event for
 * identity.events to the outbox in the change's own transaction
 * (outbox.h).
 *
 *   POST   /api/v1/products                  products_create (admin)
 *   GET    /api/v1/products?limit=&offset=&q= products_list (anyone)
 *   GET    /api/v1/products/{id}             products_get (anyone)
 *   PATCH  /api/v1/products/{id}             products_update (admin)
 *   DELETE /api/v1/products/{id}             products_delete (admin)
 *
 * A product in JSON: {"id","name","description","price","stock",
 * "created_at","updated_at"}, price a decimal string with two places
 * ("19.99"), never a number.
 */
#ifndef PRODUCTS_H
#define PRODUCTS_H

#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "http.h"

void products_create(id_http_req_t *r);
void products_list(id_http_req_t *r);
void products_get(id_http_req_t *r);
void products_update(id_http_req_t *r);
void products_delete(id_http_req_t *r);

/*
 * rules.c (pure, unit-tested): the fields of a product, in this order, as
 * values[PRODUCTS_F_*] (text as the client sent it, borrowed from body):
 *   name         a string of 1-200 characters, not blank
 *   description  a text of 0-5000 characters (line breaks allowed)
 *   price        a string of 1-9 digits, '.', 2 digits ("19.99"); a JSON
 *                number is refused (a float cannot hold every price)
 *   stock        a JSON integer 0-1000000 (values[] holds its digits,
 *                written into stock_buf)
 * products_read(body, required, values, stock_buf, errors) reads them,
 * required a mask of PRODUCTS_BIT(PRODUCTS_F_*); an absent or null field
 * is NULL.  The number of fields present (>= 0), or -1 with every problem
 * appended to errors (problem.h), each naming its field.
 */
enum {
    PRODUCTS_F_NAME,
    PRODUCTS_F_DESCRIPTION,
    PRODUCTS_F_PRICE,
    PRODUCTS_F_STOCK,
    PRODUCTS_NFIELDS
};
#define PRODUCTS_BIT(f) (1u << (f))
#define PRODUCTS_NAME_MAX 200
#define PRODUCTS_DESCRIPTION_MAX 5000
#define PRODUCTS_STOCK_MAX 1000000
#define PRODUCTS_STOCK_BUF 16

int         products_read(const json_t *body, unsigned required,
                          const char *values[PRODUCTS_NFIELDS],
                          char stock_buf[PRODUCTS_STOCK_BUF], json_t *errors);
int         products_price_ok(const char *s);
const char *products_field_name(size_t i); /* NULL past the end */

/*
 * page.c (pure, unit-tested): the list's query arguments as given (NULL =
 * absent): limit 1-200 (50), offset 0-2147483647 (0), q a text of at most
 * 200 characters (empty: no search).  0 all valid, -1 some error appended.
 */
#define PRODUCTS_PAGE_DEFAULT 50
#define PRODUCTS_PAGE_MAX 200
#define PRODUCTS_OFFSET_MAX 2147483647L
#define PRODUCTS_Q_MAX 200

typedef struct {
    long        limit;
    long        offset;
    const char *q; /* NULL: every product (borrowed) */
} products_page_t;

int products_read_page(const char *limit, const char *offset, const char *q,
                       products_page_t *page, json_t *errors);

/* admin.c: what the handlers share. */
/* 0 if the caller's forwarded identity has the admin role; else answers
 * 401 (no identity) or 403 and returns -1. */
int products_admin_only(id_http_req_t *r);
/* 0 if r->param is a product id (a UUID); else answers 422 naming "id". */
int products_id_only(id_http_req_t *r);
/* 404 product_not_found */
int products_reply_not_found(id_http_req_t *r);
/* A product row (PRODUCTS_COLUMNS, queries.h) as its JSON; NULL on ENOMEM. */
json_t *products_json(const PGresult *res, int row);
/*
 * The event of a change, written to the outbox for identity.events (key
 * the product id, so that one product's events keep their order) in the
 * open transaction: subject the product id, data {"by": the admin's id,
 * "product": the product as answered (deleted: as it was)} and, for
 * product.updated, "fields": the names of the changed fields (borrowed).
 * 0 written, -1 not.
 */
int products_event(id_http_req_t *r, const char *type, const PGresult *row,
                   const json_t *fields);

#endif
