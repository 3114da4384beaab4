/*
 * queries.h - identity-realtime's SQL: the welcome's name only (a deleted
 * account has no row, and no welcome).
 */
#ifndef RT_QUERIES_H
#define RT_QUERIES_H

#define RT_SQL_USER_NAME                                                       \
    "SELECT name, first_name, last_name, email FROM users "                    \
    "WHERE id::text = $1"

#endif
