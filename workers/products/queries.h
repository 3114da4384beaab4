/*
 * queries.h - every SQL statement of identity-products (schema in
 * sql/0009_products.sql).
 */
#ifndef PRODUCTS_QUERIES_H
#define PRODUCTS_QUERIES_H

#include "user.h" /* ID_TS_FORMAT */

/* price::text keeps numeric(11,2)'s two places: "19.90", never 19.9 */
#define PRODUCTS_COLUMNS                                                       \
    "p.id, p.name, p.description, p.price::text AS price, p.stock, "           \
    "to_char(p.created_at AT TIME ZONE 'UTC', " ID_TS_FORMAT ")"               \
    " AS created_at, "                                                         \
    "to_char(p.updated_at AT TIME ZONE 'UTC', " ID_TS_FORMAT ")"               \
    " AS updated_at"

/* $1 name, $2 description, $3 price, $4 stock */
#define PRODUCTS_SQL_INSERT                                                    \
    "INSERT INTO products AS p (name, description, price, stock)"              \
    " VALUES ($1, $2, $3::numeric, $4::integer) RETURNING " PRODUCTS_COLUMNS

#define PRODUCTS_SQL_BY_ID                                                     \
    "SELECT " PRODUCTS_COLUMNS " FROM products p WHERE p.id = $1::uuid"

/*
 * One page of the products matching the search ($1 an ILIKE pattern of
 * the name or the description, or NULL), oldest first ($2 limit, $3
 * offset), and how many match in all: one row with total and NULL product
 * columns when the page is empty.
 */
#define PRODUCTS_SQL_PAGE                                                      \
    "WITH m AS (SELECT * FROM products"                                        \
    "           WHERE $1::text IS NULL"                                        \
    "              OR name ILIKE $1 ESCAPE '\\'"                               \
    "              OR description ILIKE $1 ESCAPE '\\')"                       \
    " SELECT t.total, q.* FROM (SELECT count(*) AS total FROM m) t"            \
    " LEFT JOIN LATERAL (SELECT " PRODUCTS_COLUMNS ", p.created_at AS sort_at" \
    "                    FROM m p ORDER BY p.created_at, p.id"                 \
    "                    LIMIT $2::bigint OFFSET $3::bigint) q ON true"        \
    " ORDER BY q.sort_at, q.id"

/* The row, locked for the rest of the transaction that changes it. */
#define PRODUCTS_SQL_LOCK                                                      \
    "SELECT " PRODUCTS_COLUMNS " FROM products p WHERE p.id = $1::uuid"        \
    " FOR NO KEY UPDATE"

/* $1 id, $2..$5 name, description, price, stock; NULL: unchanged */
#define PRODUCTS_SQL_UPDATE                                                    \
    "UPDATE products p SET name = COALESCE($2, p.name),"                       \
    " description = COALESCE($3, p.description),"                              \
    " price = COALESCE($4::numeric, p.price),"                                 \
    " stock = COALESCE($5::integer, p.stock)"                                  \
    " WHERE p.id = $1::uuid RETURNING " PRODUCTS_COLUMNS

#define PRODUCTS_SQL_DELETE                                                    \
    "DELETE FROM products p WHERE p.id = $1::uuid RETURNING " PRODUCTS_COLUMNS

#endif
