/*
 * alert.c - the "login_alert" mail: a login from a device or an address the
 * account's sessions have not seen (see auth.h).  Not on an account's first
 * login (no session before: nothing to compare with), and never a token in
 * it: the time, the client address and the User-Agent, shortened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "db.h"
#include "events.h"
#include "outbox.h"
#include "log.h"
#include "queries.h"

#define AUTH_ALERT_UA_MAX 100 /* characters of the User-Agent in the mail */


int
auth_alert_check(const char *user_id, const char *ip, const char *ua,
                 auth_alert_t *out)
{
    const char *params[3];
    PGresult   *res;

    memset(out, 0, sizeof(*out));
    params[0] = user_id;
    params[1] = ip;
    params[2] = ua;
    res = id_db_exec(AUTH_SQL_LOGIN_SEEN, 3, params, NULL);
    if (res == NULL || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    if (strcmp(id_db_value(res, 0, "seen_any"), "t") == 0) {
        out->new_ip =
            ip != NULL && strcmp(id_db_value(res, 0, "seen_ip"), "t") != 0;
        out->new_ua = strcmp(id_db_value(res, 0, "seen_ua"), "t") != 0;
    }
    PQclear(res);
    return 0;
}


int
auth_alert_send(auth_app_t *app, const PGresult *user,
                const auth_alert_t *alert, const char *ip, const char *ua)
{
    int         rc = 0;
    char        when[40], device[AUTH_ALERT_UA_MAX + 1];
    const char *to, *user_id;
    time_t      now;
    struct tm   tm;
    json_t     *job;

    (void) app;
    if (!alert->new_ip && !alert->new_ua) {
        return 0;
    }
    to = id_db_value(user, 0, "email");
    user_id = id_db_value(user, 0, "id");
    now = time(NULL);
    if (gmtime_r(&now, &tm) == NULL ||
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm) == 0) {
        snprintf(when, sizeof(when), "just now");
    }
    if (ua == NULL || ua[0] == '\0') {
        snprintf(device, sizeof(device), "(none sent)");
    } else if (strlen(ua) > AUTH_ALERT_UA_MAX) {
        /* stored ones are printable ASCII: bytes are characters */
        snprintf(device, sizeof(device), "%.*s...", AUTH_ALERT_UA_MAX - 3, ua);
    } else {
        snprintf(device, sizeof(device), "%s", ua);
    }
    job = id_event_job("email", to, "login_alert",
                       json_pack("{s:s?, s:s, s:s, s:s}", "name",
                                 id_db_value(user, 0, "name"), "time", when,
                                 "address", ip != NULL ? ip : "unknown",
                                 "device", device));
    if (job == NULL || id_outbox_add(ID_TOPIC_NOTIFICATIONS, to, job) != 0) {
        id_log_error("auth.login_alert_lost", "user_id", user_id, NULL);
        rc = -1;
    } else {
        id_log_info("auth.login_alert", "user_id", user_id, "new_address",
                    alert->new_ip ? "true" : "false", "new_device",
                    alert->new_ua ? "true" : "false", NULL);
    }
    json_decref(job);
    return rc;
}
