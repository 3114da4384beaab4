/*
 * sendgrid.c - email through an HTTP API in SendGrid's v3 mail/send shape:
 * POST JSON with "Authorization: Bearer KEY"; 202 means accepted.
 *
 * The parts are the ones the SMTP path puts into its MIME message (the
 * rendered text and HTML), so both providers send the same mail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "notify.h"


/* {"email":addr} or {"email":addr,"name":name} (name cleaned, non-empty) */
static json_t *
sendgrid_address(const char *addr, const char *name)
{
    char   *clean;
    json_t *o;

    o = json_pack("{s:s}", "email", addr);
    if (o == NULL || name == NULL) {
        return o;
    }
    clean = notify_header_clean(name);
    if (clean == NULL) {
        json_decref(o);
        return NULL;
    }
    if (clean[0] != '\0' &&
        json_object_set_new(o, "name", json_string(clean)) != 0) {
        json_decref(o);
        o = NULL;
    }
    free(clean);
    return o;
}


char *
notify_sendgrid_body(const notify_mail_conf_t *mc, const notify_job_t *job,
                     const notify_rendered_t *r)
{
    char   *subject, *out = NULL;
    json_t *o = NULL, *to, *from, *headers;

    subject = notify_header_clean(r->subject != NULL ? r->subject : "");
    to = sendgrid_address(job->to, r->to_name);
    from = sendgrid_address(mc->from_addr, mc->from_name);
    headers = json_pack("{s:s, s:s}", "X-Identity-Job-Id", job->id,
                        "Auto-Submitted", "auto-generated");
    if (subject == NULL || to == NULL || from == NULL || headers == NULL) {
        json_decref(to);
        json_decref(from);
        json_decref(headers);
        goto done;
    }
    if (r->list_unsubscribe && mc->unsubscribe != NULL &&
        json_object_set_new(headers, "List-Unsubscribe",
                            json_string(mc->unsubscribe)) != 0) {
        json_decref(to);
        json_decref(from);
        json_decref(headers);
        goto done;
    }
    /* text/plain first: the API requires it, and readers show the last
     * alternative they can (RFC 2046) */
    o = json_pack("{s:[{s:[o]}], s:o, s:s, s:[{s:s, s:s}, {s:s, s:s}], "
                  "s:o, s:{s:s, s:s}}",
                  "personalizations", "to", to, "from", from, "subject",
                  subject, "content", "type", "text/plain", "value", r->text,
                  "type", "text/html", "value", r->html != NULL ? r->html : "",
                  "headers", headers, "custom_args", "job_id", job->id,
                  "template", job->tpl);
    if (o != NULL) {
        out = json_dumps(o, JSON_COMPACT);
    }

done:

    json_decref(o);
    free(subject);
    return out;
}


notify_result_t
notify_sendgrid_send(notify_conn_t *c, const notify_providers_t *pv,
                     const notify_mail_conf_t *mc, const notify_job_t *job,
                     const notify_rendered_t *r, char *err, size_t errlen)
{
    char           *body;
    notify_post_t   p;
    notify_result_t res;

    body = notify_sendgrid_body(mc, job, r);
    if (body == NULL) {
        snprintf(err, errlen, "sendgrid: out of memory");
        return NOTIFY_TRANSIENT;
    }
    memset(&p, 0, sizeof(p));
    p.provider = "sendgrid";
    p.url = pv->sendgrid_url;
    p.content_type = "Content-Type: application/json";
    p.body = body;
    p.bearer = pv->sendgrid_key;
    p.timeout_ms = pv->timeout_ms;
    res = notify_http_post(c, &p, err, errlen);
    free(body);
    return res;
}
