/*
 * queries.h - every SQL statement of identity-users (schema in sql/).
 */
#ifndef USERS_QUERIES_H
#define USERS_QUERIES_H

#include "user.h"

#define USERS_SQL_BY_ID                                                        \
    "SELECT " ID_USER_COLUMNS " FROM users u WHERE u.id = $1"

#endif
