/*
 * user.c - a profile row as public JSON (see user.h).
 */
#include <string.h>

#include "db.h"
#include "user.h"


static json_t *
id_user_str(const PGresult *res, int row, const char *col)
{
    const char *v = id_db_value(res, row, col);

    return v ? json_string(v) : json_null();
}


json_t *
id_user_json(const PGresult *res, int row)
{
    static const char *cols[] = { "id",        "email",  "name", "first_name",
                                  "last_name", "gender", "sex",  "occupation",
                                  "phone",     "role" };
    size_t             i;
    json_t            *o;
    const char        *v;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }
    for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        json_object_set_new(o, cols[i], id_user_str(res, row, cols[i]));
    }
    json_object_set_new(
        o, "email_verified",
        json_boolean(id_db_value(res, row, "email_verified_at") != NULL));
    json_object_set_new(o, "email_verified_at",
                        id_user_str(res, row, "email_verified_at"));
    json_object_set_new(o, "created_at", id_user_str(res, row, "created_at"));
    json_object_set_new(o, "updated_at", id_user_str(res, row, "updated_at"));
    v = id_db_value(res, row, "mfa_email");
    json_object_set_new(o, "mfa_enabled",
                        json_boolean(v != NULL && strcmp(v, "t") == 0));
    return o;
}
