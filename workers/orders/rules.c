/*
 * rules.c - what an order and a status change may hold (pure; see
 * orders.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "json.h"
#include "orders.h"
#include "problem.h"


/* Reads line i; 0 ok, -1 an error appended. */
static int
orders_read_item(const json_t *line, size_t i, orders_item_t *item,
                 json_t *errors)
{
    int         bad = 0;
    char        field[48];
    size_t      k;
    json_t     *v;
    json_int_t  q;
    const char *id;

    if (!json_is_object(line)) {
        snprintf(field, sizeof(field), "items[%zu]", i);
        id_problem_add_error(errors, field,
                             "must be an object {\"product_id\", "
                             "\"quantity\"}");
        return -1;
    }
    v = id_json_field(line, "product_id");
    id = json_is_string(v) ? json_string_value(v) : NULL;
    if (id == NULL || strlen(id) != json_string_length(v) ||
        !id_crypto_is_uuid(id)) {
        snprintf(field, sizeof(field), "items[%zu].product_id", i);
        id_problem_add_error(errors, field,
                             v == NULL ? "is required"
                                       : "must be a product id (a UUID)");
        bad = 1;
    } else {
        for (k = 0; k < 36; k++) {
            item->product_id[k] = (char) tolower((unsigned char) id[k]);
        }
        item->product_id[36] = '\0';
    }
    v = id_json_field(line, "quantity");
    /* jansson keeps 5 and 5.0 apart: only the first is an integer */
    q = json_is_integer(v) ? json_integer_value(v) : 0;
    if (q < 1 || q > ORDERS_QUANTITY_MAX) {
        snprintf(field, sizeof(field), "items[%zu].quantity", i);
        id_problem_add_error(errors, field,
                             v == NULL ? "is required"
                                       : "must be an integer from 1 to 1000");
        bad = 1;
    } else {
        item->quantity = (long) q;
    }
    return bad ? -1 : 0;
}


int
orders_read_items(const json_t *body, orders_item_t items[ORDERS_LINES_MAX],
                  size_t *n, json_t *errors)
{
    int     bad = 0;
    char    field[48], msg[96];
    size_t  i, j, count;
    json_t *list = id_json_field(body, "items");

    *n = 0;
    if (list == NULL) {
        id_problem_add_error(errors, "items", "is required");
        return -1;
    }
    if (!json_is_array(list) || json_array_size(list) == 0) {
        id_problem_add_error(errors, "items",
                             "must be a non-empty array of "
                             "{\"product_id\", \"quantity\"}");
        return -1;
    }
    count = json_array_size(list);
    if (count > ORDERS_LINES_MAX) {
        id_problem_add_error(errors, "items", "must have at most 100 lines");
        return -1;
    }
    for (i = 0; i < count; i++) {
        items[i].product_id[0] = '\0';
        if (orders_read_item(json_array_get(list, i), i, &items[i], errors) !=
            0) {
            bad = 1;
            continue;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(items[j].product_id, items[i].product_id) == 0) {
                snprintf(field, sizeof(field), "items[%zu].product_id", i);
                snprintf(msg, sizeof(msg),
                         "is already on line items[%zu]: one line a "
                         "product, with the whole quantity",
                         j);
                id_problem_add_error(errors, field, msg);
                bad = 1;
                break;
            }
        }
    }
    if (bad) {
        return -1;
    }
    *n = count;
    return 0;
}


int
orders_read_status(const json_t *body, const char **status, json_t *errors)
{
    json_t     *v = id_json_field(body, "status");
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;

    *status = NULL;
    if (s == NULL || (strcmp(s, "paid") != 0 && strcmp(s, "shipped") != 0)) {
        id_problem_add_error(errors, "status",
                             v == NULL ? "is required"
                                       : "must be \"paid\" or \"shipped\"");
        return -1;
    }
    *status = s;
    return 0;
}


int
orders_next_ok(const char *from, const char *to)
{
    if (from == NULL || to == NULL) {
        return 0;
    }
    return (strcmp(from, "placed") == 0 && strcmp(to, "paid") == 0) ||
           (strcmp(from, "paid") == 0 && strcmp(to, "shipped") == 0);
}
