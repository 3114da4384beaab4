/*
 * page.c - the query arguments of GET /api/v1/orders (pure: no I/O).
 */
#include "crypto.h"
#include "orders.h"
#include "page.h"
#include "problem.h"

static const id_page_rules_t orders_page_rules = { ORDERS_PAGE_DEFAULT,
                                                   ORDERS_PAGE_MAX,
                                                   ORDERS_OFFSET_MAX };


int
orders_read_page(const char *limit, const char *offset, const char *buyer,
                 orders_page_t *page, json_t *errors)
{
    int       rc;
    id_page_t p;

    rc = id_page_read(limit, offset, &orders_page_rules, &p, errors);
    page->limit = p.limit;
    page->offset = p.offset;
    page->buyer = NULL;
    if (buyer != NULL && buyer[0] != '\0') {
        if (id_crypto_is_uuid(buyer)) {
            page->buyer = buyer;
        } else {
            id_problem_add_error(errors, "buyer", "must be a user id (a UUID)");
            rc = -1;
        }
    }
    return rc;
}
