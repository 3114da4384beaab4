/*
 * page.c - the query arguments of GET /api/v1/products (pure: no I/O).
 */
#include "page.h"
#include "problem.h"
#include "products.h"

static const id_page_rules_t products_page_rules = { PRODUCTS_PAGE_DEFAULT,
                                                     PRODUCTS_PAGE_MAX,
                                                     PRODUCTS_OFFSET_MAX };


int
products_read_page(const char *limit, const char *offset, const char *q,
                   products_page_t *page, json_t *errors)
{
    int       rc;
    id_page_t p;

    rc = id_page_read(limit, offset, &products_page_rules, &p, errors);
    page->limit = p.limit;
    page->offset = p.offset;
    page->q = NULL;
    if (q != NULL && q[0] != '\0') {
        if (id_page_text_ok(q, PRODUCTS_Q_MAX)) {
            page->q = q;
        } else {
            id_problem_add_error(errors, "q",
                                 "must be text of at most 200 characters");
            rc = -1;
        }
    }
    return rc;
}
