/*
 * queries.h - identity-realtime's SQL: the welcome's name only (a deleted
 * account has no row, and no welcome).  $1 is checked to be a UUID first
 * (rt_is_uuid()): the cast then cannot fail, and the primary key's index
 * serves it, which id::text would not.
 */
#ifndef RT_QUERIES_H
#define RT_QUERIES_H

#define RT_SQL_USER_NAME                                                       \
    "SELECT name, first_name, last_name, email FROM users "                    \
    "WHERE id = $1::uuid"

#endif
