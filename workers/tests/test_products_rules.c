/*
 * test_products_rules.c - the fields of a product (name, description,
 * price as a two-place decimal string, stock) and the list's query
 * arguments (limit, offset, q).
 */
#include <stdlib.h>

#include "../products/page.c"
#include "../products/rules.c"
#include "unit.h"

static json_t *errors;
static json_t *body; /* the values read are borrowed from it */


/* products_read() of the JSON text body on a fresh errors array. */
static int
read_body(const char *text, unsigned required, const char *v[PRODUCTS_NFIELDS],
          char stock[PRODUCTS_STOCK_BUF])
{
    json_decref(errors);
    errors = json_array();
    json_decref(body);
    body = json_loads(text, JSON_ALLOW_NUL, NULL);
    if (body == NULL) {
        return -99;
    }
    return products_read(body, required, v, stock, errors);
}


/* The fields of the errors, comma-separated, into buf. */
static const char *
fields(char *buf, size_t len)
{
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < json_array_size(errors); i++) {
        const char *f = json_string_value(
            json_object_get(json_array_get(errors, i), "field"));
        if (i > 0) {
            strncat(buf, ",", len - strlen(buf) - 1);
        }
        strncat(buf, f != NULL ? f : "?", len - strlen(buf) - 1);
    }
    return buf;
}


static int
price_refused(const char *json_value)
{
    char        text[128], stock[PRODUCTS_STOCK_BUF], buf[64];
    const char *v[PRODUCTS_NFIELDS];

    snprintf(text, sizeof(text), "{\"price\": %s}", json_value);
    return read_body(text, 0, v, stock) == -1 &&
           strcmp(fields(buf, sizeof(buf)), "price") == 0;
}


int
main(void)
{
    char            stock[PRODUCTS_STOCK_BUF], buf[128];
    char            long_name[PRODUCTS_NAME_MAX + 2], text[512];
    const char     *v[PRODUCTS_NFIELDS];
    unsigned        all;
    products_page_t page;

    all = PRODUCTS_BIT(PRODUCTS_F_NAME) | PRODUCTS_BIT(PRODUCTS_F_PRICE) |
          PRODUCTS_BIT(PRODUCTS_F_STOCK);

    /* --- price ------------------------------------------------------ */
    UNIT_OK(products_price_ok("19.99"), "19.99");
    UNIT_OK(products_price_ok("0.00"), "0.00");
    UNIT_OK(products_price_ok("999999999.99"), "nine digits before the point");
    UNIT_OK(!products_price_ok("1000000000.00"), "ten digits");
    UNIT_OK(!products_price_ok("19.9"), "one place");
    UNIT_OK(!products_price_ok("19.999"), "three places");
    UNIT_OK(!products_price_ok("19"), "no point");
    UNIT_OK(!products_price_ok(".99"), "no digit before the point");
    UNIT_OK(!products_price_ok("-1.00"), "negative");
    UNIT_OK(!products_price_ok("+1.00"), "a sign");
    UNIT_OK(!products_price_ok("1,00"), "a comma");
    UNIT_OK(!products_price_ok(" 1.00"), "a space");
    UNIT_OK(!products_price_ok("1.00 "), "a trailing space");
    UNIT_OK(!products_price_ok("1e2.00"), "an exponent");
    UNIT_OK(!products_price_ok(""), "empty");
    UNIT_OK(!products_price_ok(NULL), "NULL");
    UNIT_OK(price_refused("19.99"), "a JSON number 19.99 is refused");
    UNIT_OK(price_refused("20"), "a JSON integer is refused");
    UNIT_OK(price_refused("\"19.9\""), "\"19.9\" is refused");
    UNIT_OK(price_refused("true"), "a boolean is refused");
    UNIT_OK(price_refused("\"1.00\\u0000\""), "a NUL after a price");

    /* --- a whole product ---------------------------------------------- */
    UNIT_INT(read_body("{\"name\":\"Mug\",\"description\":\"Blue\\nbig\","
                       "\"price\":\"19.99\",\"stock\":12}",
                       all, v, stock),
             4, "every field read");
    UNIT_STR(v[PRODUCTS_F_NAME], "Mug", "name");
    UNIT_STR(v[PRODUCTS_F_DESCRIPTION], "Blue\nbig",
             "description keeps its line break");
    UNIT_STR(v[PRODUCTS_F_PRICE], "19.99", "price as sent");
    UNIT_STR(v[PRODUCTS_F_STOCK], "12", "stock as digits");
    UNIT_INT(read_body("{\"name\":\"Mug\",\"price\":\"0.50\",\"stock\":0}", all,
                       v, stock),
             3, "no description: optional");
    UNIT_OK(v[PRODUCTS_F_DESCRIPTION] == NULL, "... absent");
    UNIT_INT(read_body("{}", all, v, stock), -1, "an empty body");
    UNIT_STR(fields(buf, sizeof(buf)), "name,price,stock",
             "... names every required field");
    UNIT_INT(read_body("{}", 0, v, stock), 0, "nothing required, nothing sent");
    UNIT_INT(read_body("{\"name\":\"\",\"description\":5,\"price\":1.5,"
                       "\"stock\":-1}",
                       all, v, stock),
             -1, "every field wrong");
    UNIT_STR(fields(buf, sizeof(buf)), "name,description,price,stock",
             "... each named once");

    /* --- name and description ----------------------------------------- */
    memset(long_name, 'x', PRODUCTS_NAME_MAX);
    long_name[PRODUCTS_NAME_MAX] = '\0';
    snprintf(text, sizeof(text), "{\"name\":\"%s\"}", long_name);
    UNIT_INT(read_body(text, 0, v, stock), 1, "a name of 200 characters");
    snprintf(text, sizeof(text), "{\"name\":\"%sx\"}", long_name);
    UNIT_INT(read_body(text, 0, v, stock), -1, "a name of 201 characters");
    UNIT_INT(read_body("{\"name\":\"   \"}", 0, v, stock), -1, "a blank name");
    UNIT_STR(fields(buf, sizeof(buf)), "name", "... names name");
    UNIT_INT(read_body("{\"name\":\"a\\u0001b\"}", 0, v, stock), -1,
             "a control character in the name");
    UNIT_INT(read_body("{\"description\":\"\"}", 0, v, stock), 1,
             "an empty description");

    /* --- stock ------------------------------------------------------- */
    UNIT_INT(read_body("{\"stock\":1000000}", 0, v, stock), 1, "stock 1000000");
    UNIT_STR(v[PRODUCTS_F_STOCK], "1000000", "... as digits");
    UNIT_INT(read_body("{\"stock\":1000001}", 0, v, stock), -1,
             "stock 1000001");
    UNIT_INT(read_body("{\"stock\":-1}", 0, v, stock), -1, "stock -1");
    UNIT_INT(read_body("{\"stock\":5.0}", 0, v, stock), -1, "stock 5.0");
    UNIT_INT(read_body("{\"stock\":\"5\"}", 0, v, stock), -1, "stock \"5\"");
    UNIT_INT(read_body("{\"stock\":null}", 0, v, stock), 0,
             "stock null is absent");

    /* --- the list's query arguments ------------------------------------ */
    json_decref(errors);
    errors = json_array();
    UNIT_INT(products_read_page(NULL, NULL, NULL, &page, errors), 0,
             "no arguments");
    UNIT_INT(page.limit, 50, "limit defaults to 50");
    UNIT_INT(page.offset, 0, "offset defaults to 0");
    UNIT_OK(page.q == NULL, "no search");
    UNIT_INT(products_read_page("200", "7", "Mug", &page, errors), 0,
             "limit 200, offset 7, q");
    UNIT_INT(page.limit, 200, "limit read");
    UNIT_INT(page.offset, 7, "offset read");
    UNIT_STR(page.q, "Mug", "q read");
    UNIT_INT(products_read_page(NULL, NULL, "", &page, errors), 0, "q empty");
    UNIT_OK(page.q == NULL, "... is no search");
    UNIT_INT(json_array_size(errors), 0, "no error so far");
    UNIT_INT(products_read_page("201", "-1", "a\tb", &page, errors), -1,
             "limit 201, offset -1, a tab in q");
    UNIT_STR(fields(buf, sizeof(buf)), "limit,offset,q", "... each named");
    json_decref(errors);
    errors = json_array();
    UNIT_INT(products_read_page("0", "1.5", NULL, &page, errors), -1,
             "limit 0, offset 1.5");
    UNIT_STR(fields(buf, sizeof(buf)), "limit,offset", "... both named");

    json_decref(errors);
    json_decref(body);
    return UNIT_DONE();
}
