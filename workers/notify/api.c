/*
 * api.c - the notification API: an admin or a service asks for an email or
 * an SMS with its own words.
 *
 *   POST /api/v1/notifications/email  {"to","subject","text"}
 *   POST /api/v1/notifications/sms    {"to","text"}
 *
 * Role admin or service (the gateway checks it too), else 403.  The
 * message becomes a job of the "custom" template for identity.notifications,
 * which this worker's own consumer sends like every other job.  The job is
 * written to the outbox (outbox.h) in a statement of its own, i.e. its own
 * committed transaction, and the relays of the other workers put it on
 * Kafka: the answer is 202 {"id":"<job id>"} once PostgreSQL has it, with
 * Kafka slow or away, and 503 when PostgreSQL does not take it.  Logged:
 * the job id, the channel and who asked; never the address or the words.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "events.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "outbox.h"
#include "problem.h"
#include "reply.h"

#define NOTIFY_API_SUBJECT_MAX 200 /* characters */
#define NOTIFY_API_TEXT_MAX 5000   /* characters */


int
notify_api_phone_valid(const char *s)
{
    size_t n;

    /* E.164: "+", a country code that never starts with 0, 8-15 digits */
    if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9') {
        return 0;
    }
    for (n = 1; s[n] != '\0'; n++) {
        if (s[n] < '0' || s[n] > '9') {
            return 0;
        }
    }
    return n - 1 >= 8 && n - 1 <= 15;
}


/* 1 if s has a character that is not blank (a mail with an empty subject
 * or body after the header cleaning is no message). */
static int
notify_api_has_words(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') {
            return 1;
        }
    }
    return 0;
}


static int
notify_api_allowed(id_http_req_t *r)
{
    if (r->id.role != NULL && (strcmp(r->id.role, "admin") == 0 ||
                               strcmp(r->id.role, "service") == 0)) {
        return 1;
    }
    id_http_send_problem(r, 403, "forbidden",
                         "only an admin or a service may send notifications",
                         NULL);
    return 0;
}


static void
notify_api_text(id_http_req_t *r, const char *name, size_t max,
                const char **out, json_t *errors)
{
    int rc;

    rc = name[0] == 's' ? id_json_string(r->json, name, 1, 1, max, out, errors)
                        : id_json_text(r->json, name, 1, 1, max, out, errors);
    if (rc == 0 && !notify_api_has_words(*out)) {
        id_problem_add_error(errors, name, "must not be blank");
        *out = NULL;
    }
}


/* Writes job (stolen) keyed by to to the outbox; answers 202 or 503. */
static void
notify_api_enqueue(id_http_req_t *r, const char *channel, const char *to,
                   json_t *job)
{
    const char *id;

    if (job == NULL) {
        id_http_send_problem(r, 500, "internal_error", NULL, NULL);
        return;
    }
    /* autocommit: durable once it returns 0 (logged "outbox.add_failed") */
    if (id_outbox_add(ID_TOPIC_NOTIFICATIONS, to, job) != 0) {
        json_decref(job);
        id_reply_unavailable(r, "the database");
        return;
    }
    id = json_string_value(json_object_get(job, "id"));
    id_log_info("notify.api_queued", "id", id, "channel", channel, "by",
                r->id.sub, "role", r->id.role, NULL);
    id_http_send_json(r, 202, json_pack("{s:s}", "id", id));
    json_decref(job);
}


void
notify_api_email(id_http_req_t *r)
{
    char        to[256];
    json_t     *errors;
    const char *subject = NULL, *text = NULL;

    if (!notify_api_allowed(r)) {
        return;
    }
    errors = json_array();
    if (errors == NULL) {
        id_http_send_problem(r, 500, "internal_error", NULL, NULL);
        return;
    }
    id_json_email(r->json, "to", 1, to, sizeof(to), errors);
    notify_api_text(r, "subject", NOTIFY_API_SUBJECT_MAX, &subject, errors);
    notify_api_text(r, "text", NOTIFY_API_TEXT_MAX, &text, errors);
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    notify_api_enqueue(r, "email", to,
                       id_event_job("email", to, "custom",
                                    json_pack("{s:s, s:s}", "subject", subject,
                                              "text", text)));
}


void
notify_api_sms(id_http_req_t *r)
{
    json_t     *errors, *v;
    const char *to = NULL, *text = NULL;

    if (!notify_api_allowed(r)) {
        return;
    }
    errors = json_array();
    if (errors == NULL) {
        id_http_send_problem(r, 500, "internal_error", NULL, NULL);
        return;
    }
    v = id_json_field(r->json, "to");
    if (v == NULL) {
        id_problem_add_error(errors, "to", "is required");
    } else if (!json_is_string(v) ||
               !notify_api_phone_valid(json_string_value(v))) {
        id_problem_add_error(errors, "to",
                             "must be a phone number in E.164 form: + and "
                             "8 to 15 digits");
    } else {
        to = json_string_value(v);
    }
    notify_api_text(r, "text", NOTIFY_API_TEXT_MAX, &text, errors);
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    notify_api_enqueue(
        r, "sms", to,
        id_event_job("sms", to, "custom", json_pack("{s:s}", "text", text)));
}
