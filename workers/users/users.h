/*
 * users.h - identity-users: profiles (and, later, administration).
 */
#ifndef USERS_H
#define USERS_H

#include "http.h"

/* profile.c */
void users_me(id_http_req_t *r);
void users_get(id_http_req_t *r);

#endif
