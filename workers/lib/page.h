/*
 * page.h - the query arguments of the workers' list routes (GET
 * /api/v1/users, /api/v1/audit, /api/v1/products), read the same way by
 * each (pure: no I/O).
 *
 *   id_page_number(s, lo, hi, &out)
 *       s a whole number of decimal digits only (no sign, space, point or
 *       exponent), lo..hi.  0 ok, -1 not (out untouched).
 *   id_page_read(limit, offset, rules, &page, errors)
 *       limit and offset as given in the query (NULL = absent): absent,
 *       rules->limit_default and 0; present, 1..rules->limit_max and
 *       0..rules->offset_max.  Appends "limit" / "offset" errors
 *       (problem.h) for bad ones.  0 both valid, -1 some error appended.
 *   id_page_text_ok(s, max)
 *       1 if s is UTF-8 of at most max characters and no control
 *       character (a search text), else 0.
 *   id_page_like(q)
 *       the ILIKE pattern "%q%" with q's % _ and \ escaped by a backslash
 *       (the query says ESCAPE '\'), so that q matches as a substring,
 *       literally.  A new string (free()), NULL on ENOMEM.
 *   id_page_json(key, items, total, limit, offset)
 *       the answer of every list route: {"<key>":items,"count":<items on
 *       this page>,"total":<matching, all pages>,"limit","offset"}, total
 *       given as the database's decimal text (NULL: 0).  Takes items'
 *       reference, also on failure.  NULL on ENOMEM.
 */
#ifndef ID_PAGE_H
#define ID_PAGE_H

#include <stddef.h>

#include <jansson.h>

typedef struct {
    long limit_default;
    long limit_max;
    long offset_max;
} id_page_rules_t;

typedef struct {
    long limit;
    long offset;
} id_page_t;

int     id_page_number(const char *s, long lo, long hi, long *out);
int     id_page_read(const char *limit, const char *offset,
                     const id_page_rules_t *rules, id_page_t *page, json_t *errors);
int     id_page_text_ok(const char *s, size_t max);
char   *id_page_like(const char *q);
json_t *id_page_json(const char *key, json_t *items, const char *total,
                     long limit, long offset);

#endif
