/*
 * send.c - the jobs and events of identity-users (see users.h).
 */
#include "db.h"
#include "events.h"
#include "users.h"


int
users_mail(const users_app_t *app, const char *to, const char *template_name,
           json_t *data)
{
    int     rc;
    json_t *job = id_event_job("email", to, template_name, data);

    rc = id_event_send(app->kafka, ID_TOPIC_NOTIFICATIONS, to, job,
                       ID_EVENT_TIMEOUT_MS);
    json_decref(job);
    return rc;
}


int
users_event(const users_app_t *app, const char *type, const char *user_id,
            json_t *data)
{
    int     rc;
    json_t *ev = id_event_identity(type, user_id, data);

    rc = id_event_send(app->kafka, ID_TOPIC_EVENTS, user_id, ev,
                       ID_EVENT_TIMEOUT_MS);
    json_decref(ev);
    return rc;
}


const char *
users_greeting(const PGresult *res)
{
    const char *name = id_db_value(res, 0, "name");

    if (name != NULL && name[0] != '\0') {
        return name;
    }
    name = id_db_value(res, 0, "first_name");
    return name != NULL ? name : "";
}
