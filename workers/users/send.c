/*
 * send.c - the jobs and events of identity-users (see users.h).
 */
#include "db.h"
#include "events.h"
#include "outbox.h"
#include "users.h"


int
users_mail(const users_app_t *app, const char *to, const char *template_name,
           json_t *data)
{
    int     rc;
    json_t *job = id_event_job("email", to, template_name, data);

    (void) app; /* the outbox is on this thread's connection */

    rc = id_outbox_add(ID_TOPIC_NOTIFICATIONS, to, job);
    json_decref(job);
    return rc;
}


int
users_event(const users_app_t *app, const char *type, const char *user_id,
            json_t *data)
{
    int     rc;
    json_t *ev = id_event_identity(type, user_id, data);

    (void) app;

    rc = id_outbox_add(ID_TOPIC_EVENTS, user_id, ev);
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
