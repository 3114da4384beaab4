/*
 * page.c - the query arguments and answers of the list routes (see
 * page.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "page.h"
#include "problem.h"

/* digits of the largest number accepted: 2^31 - 1 has 10, and a longer
 * text is refused before strtol could overflow */
#define ID_PAGE_DIGITS_MAX 10


int
id_page_number(const char *s, long lo, long hi, long *out)
{
    long  v;
    char *end;

    if (s == NULL || s[0] < '0' || s[0] > '9' ||
        strlen(s) > ID_PAGE_DIGITS_MAX) {
        return -1;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}


int
id_page_read(const char *limit, const char *offset,
             const id_page_rules_t *rules, id_page_t *page, json_t *errors)
{
    int  rc = 0;
    char msg[64];

    page->limit = rules->limit_default;
    page->offset = 0;
    if (limit != NULL &&
        id_page_number(limit, 1, rules->limit_max, &page->limit) != 0) {
        snprintf(msg, sizeof(msg), "must be an integer from 1 to %ld",
                 rules->limit_max);
        id_problem_add_error(errors, "limit", msg);
        rc = -1;
    }
    if (offset != NULL &&
        id_page_number(offset, 0, rules->offset_max, &page->offset) != 0) {
        snprintf(msg, sizeof(msg), "must be an integer from 0 to %ld",
                 rules->offset_max);
        id_problem_add_error(errors, "offset", msg);
        rc = -1;
    }
    return rc;
}


int
id_page_text_ok(const char *s, size_t max)
{
    size_t               len = strlen(s);
    const unsigned char *p;

    if (u8_check((const uint8_t *) s, len) != NULL ||
        u8_mbsnlen((const uint8_t *) s, len) > max) {
        return 0;
    }
    for (p = (const unsigned char *) s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 0;
        }
    }
    return 1;
}


char *
id_page_like(const char *q)
{
    char *out, *p;

    out = malloc(2 * strlen(q) + 3);
    if (out == NULL) {
        return NULL;
    }
    p = out;
    *p++ = '%';
    for (; *q != '\0'; q++) {
        if (*q == '%' || *q == '_' || *q == '\\') {
            *p++ = '\\';
        }
        *p++ = *q;
    }
    *p++ = '%';
    *p = '\0';
    return out;
}


json_t *
id_page_json(const char *key, json_t *items, const char *total, long limit,
             long offset)
{
    size_t count = json_array_size(items);

    /* "o" takes items' reference, also when the pack fails */
    return json_pack(
        "{s:o, s:I, s:I, s:I, s:I}", key, items, "count", (json_int_t) count,
        "total", (json_int_t) strtoll(total != NULL ? total : "0", NULL, 10),
        "limit", (json_int_t) limit, "offset", (json_int_t) offset);
}
