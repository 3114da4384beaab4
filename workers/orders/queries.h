/*
 * queries.h - every SQL statement of identity-orders (schema in
 * sql/0010_orders.sql; it reads products and users of the same database).
 */
#ifndef ORDERS_QUERIES_H
#define ORDERS_QUERIES_H

#include "user.h" /* ID_TS_FORMAT */

/*
 * An order and its lines, in line order, as one row: items is a JSON
 * array.  numeric::text keeps the columns' two places ("59.90").
 */
#define ORDERS_COLUMNS                                                         \
    "o.id, o.buyer_id, o.status, o.total::text AS total, "                     \
    "to_char(o.created_at AT TIME ZONE 'UTC', " ID_TS_FORMAT ")"               \
    " AS created_at, "                                                         \
    "to_char(o.updated_at AT TIME ZONE 'UTC', " ID_TS_FORMAT ")"               \
    " AS updated_at, "                                                         \
    "(SELECT json_agg(json_build_object('product_id', i.product_id,"           \
    "  'name', i.name, 'unit_price', i.unit_price::text,"                      \
    "  'quantity', i.quantity, 'line_total', i.line_total::text)"              \
    "  ORDER BY i.line_no) FROM order_items i WHERE i.order_id = o.id)"        \
    " AS items"

#define ORDERS_SQL_BY_ID                                                       \
    "SELECT " ORDERS_COLUMNS " FROM orders o WHERE o.id = $1::uuid"

/* The same row, locked for the transaction that changes the order. */
#define ORDERS_SQL_LOCK ORDERS_SQL_BY_ID " FOR NO KEY UPDATE OF o"

/* Where the buyer's confirmation goes ($1 user id), read when the order
 * is placed: the token's email may predate a change of address. */
#define ORDERS_SQL_BUYER                                                       \
    "SELECT email, name, first_name FROM users WHERE id = $1::uuid"

/*
 * The products of an order ($1 an array of ids), locked in id order: two
 * orders that share products take their locks in the same order and
 * never deadlock, and each sees the stock the one before it left.
 */
#define ORDERS_SQL_LOCK_PRODUCTS                                               \
    "SELECT p.id, p.name, p.price::text AS price, p.stock FROM products p"     \
    " WHERE p.id = ANY ($1::uuid[]) ORDER BY p.id FOR NO KEY UPDATE"

/*
 * Places the order once its products are locked and their stock checked:
 * $1 buyer, $2 product ids, $3 quantities (arrays in line order).  Takes
 * the stock, copies name and price into the lines, totals in numeric.
 * Returns the new order's id.
 */
#define ORDERS_SQL_PLACE                                                       \
    "WITH l AS (SELECT * FROM unnest($2::uuid[], $3::integer[])"               \
    "           WITH ORDINALITY AS l(product_id, quantity, line_no)),"         \
    " p AS (UPDATE products p SET stock = p.stock - l.quantity FROM l"         \
    "       WHERE p.id = l.product_id"                                         \
    "       RETURNING p.id, p.name, p.price, l.quantity, l.line_no),"          \
    " o AS (INSERT INTO orders (buyer_id, total)"                              \
    "       SELECT $1::uuid, sum(p.price * p.quantity) FROM p RETURNING id),"  \
    " i AS (INSERT INTO order_items (order_id, line_no, product_id, name,"     \
    "       unit_price, quantity, line_total)"                                 \
    "       SELECT o.id, p.line_no, p.id, p.name, p.price, p.quantity,"        \
    "              p.price * p.quantity FROM o, p)"                            \
    " SELECT id FROM o"

/*
 * The stock of a cancelled order ($1) back on its products that still
 * exist: first locked in id order (as an order placed locks them), then
 * given back.
 */
#define ORDERS_SQL_LOCK_ORDER_PRODUCTS                                         \
    "SELECT p.id FROM products p WHERE p.id IN"                                \
    " (SELECT product_id FROM order_items WHERE order_id = $1::uuid)"          \
    " ORDER BY p.id FOR NO KEY UPDATE"

#define ORDERS_SQL_RESTOCK                                                     \
    "UPDATE products p SET stock = p.stock + i.quantity FROM order_items i"    \
    " WHERE i.order_id = $1::uuid AND p.id = i.product_id"

/* $1 id, $2 new status */
#define ORDERS_SQL_SET_STATUS                                                  \
    "UPDATE orders SET status = $2 WHERE id = $1::uuid"

/*
 * One page of the orders ($1 a buyer, or NULL: everyone's), newest first
 * ($2 limit, $3 offset), and how many in all: one row with total and NULL
 * order columns when the page is empty.
 */
#define ORDERS_SQL_PAGE                                                        \
    "WITH m AS (SELECT * FROM orders"                                          \
    "           WHERE $1::uuid IS NULL OR buyer_id = $1::uuid)"                \
    " SELECT t.total AS count_all, q.* FROM (SELECT count(*) AS total FROM "   \
    "m) t"                                                                     \
    " LEFT JOIN LATERAL (SELECT " ORDERS_COLUMNS ", o.created_at AS sort_at"   \
    "                    FROM m o ORDER BY o.created_at DESC, o.id DESC"       \
    "                    LIMIT $2::bigint OFFSET $3::bigint) q ON true"        \
    " ORDER BY q.sort_at DESC, q.id DESC"

#endif
