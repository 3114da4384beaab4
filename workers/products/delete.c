/*
 * delete.c - DELETE /api/v1/products/{id} (admin): 204, and
 * product.deleted (with the product as it was) in the same transaction.
 */
#include "db.h"
#include "log.h"
#include "products.h"
#include "queries.h"
#include "reply.h"


void
products_delete(id_http_req_t *r)
{
    PGresult   *res = NULL;
    const char *params[1];

    if (products_admin_only(r) != 0 || products_id_only(r) != 0) {
        return;
    }
    if (id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        return;
    }
    params[0] = r->param;
    res = id_db_exec(PRODUCTS_SQL_DELETE, 1, params, NULL);
    if (res == NULL) {
        goto unavailable;
    }
    if (PQntuples(res) != 1) {
        id_db_rollback();
        products_reply_not_found(r);
        goto done;
    }
    if (products_event(r, "product.deleted", res, NULL) != 0 ||
        id_db_commit() != 0) {
        goto unavailable;
    }
    id_log_info("products.deleted", "product", r->param, "by", r->id.sub, NULL);
    id_http_send_empty(r, 204);
    goto done;

unavailable:

    id_db_rollback();
    id_reply_unavailable(r, "the database");

done:

    PQclear(res);
}
