/*
 * mail.c - the lines of the buyer's order confirmation (pure; see
 * orders.h).  The template (notify's order_placed.tpl) has no loops: the
 * lines reach it as one multiline variable, which its HTML part escapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orders.h"


char *
orders_lines_text(const json_t *order)
{
    int         k;
    char       *out;
    size_t      i, used = 0, n;
    json_t     *items = json_object_get(order, "items"), *line;
    const char *name, *price, *total;

    n = json_array_size(items);
    out = malloc(ORDERS_LINES_TEXT_MAX + 1);
    if (out == NULL) {
        return NULL;
    }
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        line = json_array_get(items, i);
        name = json_string_value(json_object_get(line, "name"));
        price = json_string_value(json_object_get(line, "unit_price"));
        total = json_string_value(json_object_get(line, "line_total"));
        /* room kept for the "... and N more" that may have to follow */
        k = snprintf(
            out + used, ORDERS_LINES_TEXT_MAX - 32 - used,
            "%s%lld x %s at %s = %s", i > 0 ? "\n" : "",
            (long long) json_integer_value(json_object_get(line, "quantity")),
            name != NULL ? name : "", price != NULL ? price : "",
            total != NULL ? total : "");
        if (k < 0 || (size_t) k >= ORDERS_LINES_TEXT_MAX - 32 - used) {
            out[used] = '\0';
            snprintf(out + used, ORDERS_LINES_TEXT_MAX + 1 - used,
                     "%s... and %zu more", i > 0 ? "\n" : "", n - i);
            break;
        }
        used += (size_t) k;
    }
    return out;
}
