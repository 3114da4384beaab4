/*
 * queries.h - the SQL of identity-otp (schema: sql/0001_users.sql).
 */
#ifndef OTPW_QUERIES_H
#define OTPW_QUERIES_H

/* $1 user id: where a code can go and how to greet the user. */
#define OTPW_SQL_CONTACT                                                       \
    "SELECT email, coalesce(phone, '') AS phone,"                              \
    " coalesce(name, first_name, '') AS name"                                  \
    " FROM users WHERE id = $1"

#endif
