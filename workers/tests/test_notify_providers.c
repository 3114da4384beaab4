/*
 * test_notify_providers.c - what the HTTP providers are sent: the JSON of a
 * SendGrid v3 mail/send, Twilio's form and URL, the https:// rule for
 * their endpoints (notify/sendgrid.c, twilio.c, conn.c).
 */
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "unit.h"

#include "../notify/job.c"
#include "../notify/mail.c"
#include "../notify/sms.c"
#include "../notify/conn.c"
#include "../notify/sendgrid.c"
#include "../notify/twilio.c"


/* The string at path a.b (objects only) of o, NULL if absent. */
static const char *
str_at(json_t *o, const char *k1, const char *k2)
{
    json_t *v = json_object_get(o, k1);

    if (k2 != NULL) {
        v = json_object_get(v, k2);
    }
    return json_string_value(v);
}


int
main(void)
{
    char               err[256], *s;
    json_t            *o, *p, *c;
    notify_job_t       job;
    notify_mail_conf_t mc;
    notify_rendered_t  r;

    memset(&mc, 0, sizeof(mc));
    memset(&job, 0, sizeof(job));
    memset(&r, 0, sizeof(r));
    notify_mail_from_parse(&mc, "Identity Shop <no-reply@shop.example>", err,
                           sizeof(err));
    notify_mail_unsubscribe_parse(&mc, "mailto:u@shop.example", err,
                                  sizeof(err));
    job.id = "job-1";
    job.to = "ann@example.com";
    job.tpl = "welcome";
    r.subject = "Welcome,\r\nBcc: x@evil.example";
    r.text = "Hi Ann,\n";
    r.html = "<p>Hi Ann,</p>";
    r.to_name = "Ann \"A\" Lee";
    r.list_unsubscribe = 1;

    s = notify_sendgrid_body(&mc, &job, &r);
    o = s != NULL ? json_loads(s, 0, NULL) : NULL;
    UNIT_OK(o != NULL, "sendgrid: a JSON object");
    p = json_array_get(json_object_get(o, "personalizations"), 0);
    UNIT_INT(json_array_size(json_object_get(o, "personalizations")), 1,
             "one personalization");
    UNIT_INT(json_array_size(json_object_get(p, "to")), 1, "one recipient");
    UNIT_STR(str_at(json_array_get(json_object_get(p, "to"), 0), "email", NULL),
             "ann@example.com", "to.email: the job's address");
    UNIT_STR(str_at(json_array_get(json_object_get(p, "to"), 0), "name", NULL),
             "Ann \"A\" Lee", "to.name: the template's to-name");
    UNIT_STR(str_at(o, "from", "email"), "no-reply@shop.example",
             "from.email: MAIL_FROM's address");
    UNIT_STR(str_at(o, "from", "name"), "Identity Shop",
             "from.name: its display name");
    UNIT_STR(str_at(o, "subject", NULL), "Welcome, Bcc: x@evil.example",
             "subject: controls cleaned (one line)");
    c = json_object_get(o, "content");
    UNIT_INT(json_array_size(c), 2, "two contents");
    UNIT_STR(str_at(json_array_get(c, 0), "type", NULL), "text/plain",
             "text/plain first");
    UNIT_STR(str_at(json_array_get(c, 0), "value", NULL), "Hi Ann,\n",
             "... the rendered text");
    UNIT_STR(str_at(json_array_get(c, 1), "type", NULL), "text/html",
             "then text/html");
    UNIT_STR(str_at(json_array_get(c, 1), "value", NULL), "<p>Hi Ann,</p>",
             "... the rendered HTML");
    UNIT_STR(str_at(o, "headers", "X-Identity-Job-Id"), "job-1",
             "headers: the job id");
    UNIT_STR(str_at(o, "headers", "List-Unsubscribe"),
             "<mailto:u@shop.example>", "headers: List-Unsubscribe if asked");
    UNIT_STR(str_at(o, "custom_args", "job_id"), "job-1",
             "custom_args: job_id (in the provider's events)");
    UNIT_STR(str_at(o, "custom_args", "template"), "welcome",
             "custom_args: template");
    json_decref(o);
    free(s);

    r.list_unsubscribe = 0;
    r.to_name = NULL;
    s = notify_sendgrid_body(&mc, &job, &r);
    o = s != NULL ? json_loads(s, 0, NULL) : NULL;
    p = json_array_get(json_object_get(o, "personalizations"), 0);
    UNIT_OK(json_object_get(json_array_get(json_object_get(p, "to"), 0),
                            "name") == NULL,
            "no to-name: no name member");
    UNIT_OK(json_object_get(json_object_get(o, "headers"),
                            "List-Unsubscribe") == NULL,
            "no List-Unsubscribe unless the template asks");
    json_decref(o);
    free(s);
    notify_mail_conf_free(&mc);

    s = notify_twilio_body("+15005550006", "+4915112345678",
                           "Code 123456 & more = 100%\nbye");
    UNIT_STR(s,
             "To=%2B4915112345678&From=%2B15005550006&Body=Code%20123456%20%"
             "26%20more%20%3D%20100%25%0Abye",
             "twilio: To, From, Body form-encoded");
    free(s);
    s = notify_twilio_url("http://127.0.0.1:9/", "AC0123");
    UNIT_STR(s, "http://127.0.0.1:9/2010-04-01/Accounts/AC0123/Messages.json",
             "twilio: the Messages.json URL of the account");
    free(s);

    UNIT_INT(notify_https_policy("https://api.sendgrid.com/v3/mail/send"), 1,
             "https:// endpoint accepted");
    UNIT_INT(notify_https_policy("http://127.0.0.1:8025/v3/mail/send"), 1,
             "http:// on loopback accepted");
    UNIT_INT(notify_https_policy("http://api.sendgrid.com/v3/mail/send"), 0,
             "http:// to another host refused");
    UNIT_INT(notify_https_policy("ftp://127.0.0.1/"), 0,
             "another scheme refused");

    /* nothing listens on port 1: transient, the reason names the provider */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    {
        notify_conn_t      conn = { NULL };
        notify_providers_t pv;

        memset(&pv, 0, sizeof(pv));
        pv.twilio_url = "http://127.0.0.1:1/x";
        pv.twilio_sid = "AC1";
        pv.twilio_token = "tok";
        pv.twilio_from = "+15005550006";
        pv.timeout_ms = 2000;
        UNIT_OK(notify_twilio_send(&conn, &pv, "+4915112345678", "hi", err,
                                   sizeof(err)) == NOTIFY_TRANSIENT &&
                    strncmp(err, "twilio: ", 8) == 0,
                "twilio down: transient, named");
        notify_conn_close(&conn);
    }
    curl_global_cleanup();
    return UNIT_DONE();
}
