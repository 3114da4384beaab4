/*
 * test_orders_rules.c - what an order may hold (its lines: product ids,
 * quantities 1-1000, at most 100, one line a product), the status changes
 * an admin may make, the list's query arguments and the lines of the
 * confirmation mail.
 */
#include <stdlib.h>
#include <string.h>

#include "../orders/mail.c"
#include "../orders/page.c"
#include "../orders/rules.c"
#include "unit.h"

#define P1 "11111111-1111-4111-8111-111111111111"
#define P2 "22222222-2222-4222-8222-222222222222"

static json_t       *errors;
static orders_item_t items[ORDERS_LINES_MAX];


/* orders_read_items() of the JSON text body on a fresh errors array. */
static int
read_items(const char *text, size_t *n)
{
    int     rc;
    json_t *body = json_loads(text, 0, NULL);

    json_decref(errors);
    errors = json_array();
    if (body == NULL) {
        return -99;
    }
    rc = orders_read_items(body, items, n, errors);
    json_decref(body);
    return rc;
}


/* The fields of the errors, comma-joined, in order. */
static const char *
fields(void)
{
    static char out[512];
    size_t      i;

    out[0] = '\0';
    for (i = 0; i < json_array_size(errors); i++) {
        if (i > 0) {
            strcat(out, ",");
        }
        strcat(out, json_string_value(
                        json_object_get(json_array_get(errors, i), "field")));
    }
    return out;
}


int
main(void)
{
    int           rc;
    char         *text, big[8192];
    size_t        n, i;
    json_t       *body, *order;
    const char   *status;
    orders_page_t page;

    rc = read_items("{\"items\":[{\"product_id\":\"" P1 "\",\"quantity\":3},"
                    "{\"productId\":\"" P2 "\",\"quantity\":1000}]}",
                    &n);
    UNIT_OK(rc == 0 && n == 2 && strcmp(items[0].product_id, P1) == 0 &&
                items[0].quantity == 3 && items[1].quantity == 1000,
            "two lines read (camelCase productId too)");
    rc =
        read_items("{\"items\":[{\"product_id\":"
                   "\"AAAAAAAA-1111-4111-8111-111111111111\",\"quantity\":1}]}",
                   &n);
    UNIT_OK(rc == 0 && strcmp(items[0].product_id,
                              "aaaaaaaa-1111-4111-8111-111111111111") == 0,
            "a product id in capitals is read in lower case");

    rc = read_items("{}", &n);
    UNIT_OK(rc == -1 && strcmp(fields(), "items") == 0 && n == 0,
            "no items: 422 items");
    rc = read_items("{\"items\":[]}", &n);
    UNIT_OK(rc == -1 && strcmp(fields(), "items") == 0, "empty items");
    rc = read_items("{\"items\":{\"product_id\":\"" P1 "\"}}", &n);
    UNIT_OK(rc == -1 && strcmp(fields(), "items") == 0, "items not an array");
    rc = read_items("{\"items\":[5]}", &n);
    UNIT_OK(rc == -1 && strcmp(fields(), "items[0]") == 0,
            "a line that is not an object");

    rc = read_items("{\"items\":[{\"product_id\":\"" P1 "\",\"quantity\":0},"
                    "{\"product_id\":\"" P2 "\",\"quantity\":1001},"
                    "{\"product_id\":\"x\",\"quantity\":2.0},"
                    "{\"quantity\":\"3\"}]}",
                    &n);
    UNIT_OK(rc == -1 &&
                strcmp(fields(), "items[0].quantity,items[1].quantity,"
                                 "items[2].product_id,items[2].quantity,"
                                 "items[3].product_id,items[3].quantity") == 0,
            "every bad field named: 0, 1001, 2.0, \"3\", not a UUID, none");

    rc = read_items("{\"items\":[{\"product_id\":\"" P1 "\",\"quantity\":1},"
                    "{\"product_id\":\"" P2 "\",\"quantity\":1},"
                    "{\"product_id\":\"" P1 "\",\"quantity\":2}]}",
                    &n);
    UNIT_OK(rc == -1 && strcmp(fields(), "items[2].product_id") == 0 &&
                strstr(json_string_value(json_object_get(
                           json_array_get(errors, 0), "message")),
                       "items[0]") != NULL,
            "a product on two lines: refused, naming the first line");

    strcpy(big, "{\"items\":[");
    for (i = 0; i < 101; i++) {
        strcat(big, i > 0 ? ",{\"product_id\":\"" P1 "\",\"quantity\":1}"
                          : "{\"product_id\":\"" P1 "\",\"quantity\":1}");
    }
    strcat(big, "]}");
    rc = read_items(big, &n);
    UNIT_OK(rc == -1 && strcmp(fields(), "items") == 0, "101 lines: refused");

    body = json_loads("{\"status\":\"paid\"}", 0, NULL);
    json_decref(errors);
    errors = json_array();
    UNIT_OK(orders_read_status(body, &status, errors) == 0 &&
                strcmp(status, "paid") == 0,
            "status paid");
    json_decref(body);
    body = json_loads("{\"status\":\"cancelled\"}", 0, NULL);
    UNIT_OK(orders_read_status(body, &status, errors) == -1 &&
                strcmp(fields(), "status") == 0,
            "status cancelled is no admin's change: 422 status");
    json_decref(body);

    UNIT_OK(orders_next_ok("placed", "paid") &&
                orders_next_ok("paid", "shipped"),
            "placed -> paid -> shipped");
    UNIT_OK(!orders_next_ok("placed", "shipped") &&
                !orders_next_ok("paid", "paid") &&
                !orders_next_ok("shipped", "paid") &&
                !orders_next_ok("cancelled", "paid") &&
                !orders_next_ok(NULL, "paid"),
            "no skipped step, no step back, nothing after a cancel");

    json_decref(errors);
    errors = json_array();
    UNIT_OK(orders_read_page(NULL, NULL, NULL, &page, errors) == 0 &&
                page.limit == 50 && page.offset == 0 && page.buyer == NULL,
            "list defaults");
    UNIT_OK(orders_read_page("0", "-1", "me", &page, errors) == -1 &&
                strcmp(fields(), "limit,offset,buyer") == 0,
            "list: bad limit, offset and buyer named");

    order = json_loads(
        "{\"items\":[{\"name\":\"Mug\",\"unit_price\":\"19.99\","
        "\"quantity\":3,\"line_total\":\"59.97\"},{\"name\":\"Lamp\","
        "\"unit_price\":\"5.00\",\"quantity\":1,\"line_total\":\"5.00\"}]}",
        0, NULL);
    text = orders_lines_text(order);
    UNIT_OK(text != NULL && strcmp(text, "3 x Mug at 19.99 = 59.97\n"
                                         "1 x Lamp at 5.00 = 5.00") == 0,
            "the mail's lines");
    free(text);
    json_decref(order);

    order = json_pack("{s:[]}", "items");
    for (i = 0; i < 100; i++) {
        json_array_append_new(
            json_object_get(order, "items"),
            json_pack("{s:s, s:s, s:i, s:s}", "name",
                      "A very long product name that goes on and on and on "
                      "and on and on and on and on and on and on and on and "
                      "on and on and on and on and on and on to 200 chars",
                      "unit_price", "1.00", "quantity", 1, "line_total",
                      "1.00"));
    }
    text = orders_lines_text(order);
    UNIT_OK(text != NULL && strlen(text) <= ORDERS_LINES_TEXT_MAX &&
                strstr(text, " more") != NULL,
            "100 long lines: cut short with \"... and N more\"");
    free(text);
    json_decref(order);
    json_decref(errors);
    return UNIT_DONE();
}
