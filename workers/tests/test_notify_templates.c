/*
 * test_notify_templates.c - the template table and its rendering
 * (notify/templates.c).
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "../notify/templates.c"


static json_t *
data_of(const char *json)
{
    return json_loads(json, 0, NULL);
}


/* Renders; returns rc and leaves the result in *r (caller frees). */
static int
render(const char *tpl, notify_channel_t ch, const char *data_json,
       notify_rendered_t *r, char *err, size_t errlen)
{
    int     rc;
    json_t *d = data_of(data_json);

    err[0] = '\0';
    rc = notify_render(tpl, ch, d, r, err, errlen);
    json_decref(d);
    return rc;
}


/* Renders data {name: unit x n, extra...}. */
static int
render_long(const char *tpl, notify_channel_t ch, const char *name,
            const char *unit, size_t n, const char *extra, notify_rendered_t *r,
            char *err, size_t errlen)
{
    int     rc;
    char   *v;
    size_t  i, len = strlen(unit);
    json_t *d;

    v = malloc(len * n + 1);
    if (v == NULL) {
        return -2;
    }
    for (i = 0; i < n; i++) {
        memcpy(v + i * len, unit, len);
    }
    v[len * n] = '\0';
    if (extra != NULL) {
        char buf[256];

        snprintf(buf, sizeof(buf), "{%s}", extra); /* members only */
        d = data_of(buf);
    } else {
        d = json_object();
    }
    json_object_set_new(d, name, json_string(v));
    free(v);
    err[0] = '\0';
    rc = notify_render(tpl, ch, d, r, err, errlen);
    json_decref(d);
    return rc;
}


int
main(void)
{
    int               rc, all_ok = 1, sms_ok = 1, count = 0;
    char              err[256];
    size_t            i;
    const char       *name, *full;
    notify_rendered_t r;

    full = "{\"otp\":\"123456\",\"name\":\"Ann\",\"ttl_minutes\":10,"
           "\"subject\":\"Hello\",\"text\":\"Body\",\"attempts\":51,"
           "\"fields\":\"phone\",\"new_email\":\"b@example.com\",\"time\":\"2026-12-06 02:40 UTC\"}";

    for (i = 0; (name = notify_template_name(i)) != NULL; i++) {
        count++;
        rc = render(name, NOTIFY_EMAIL, full, &r, err, sizeof(err));
        if (rc != 0 || r.subject[0] == '\0' || r.text[0] == '\0' ||
            strchr(r.subject, '\n') != NULL || strstr(r.text, "{{") != NULL) {
            all_ok = 0;
        }
        notify_rendered_free(&r);
        rc = render(name, NOTIFY_SMS, full, &r, err, sizeof(err));
        if (rc != 0 || r.subject != NULL || r.text[0] == '\0' ||
            strstr(r.text, "{{") != NULL) {
            sms_ok = 0;
        }
        notify_rendered_free(&r);
    }
    UNIT_OK(count == 16, "sixteen templates");
    UNIT_OK(all_ok, "every template renders an email");
    UNIT_OK(sms_ok, "every template renders an SMS");

    rc = render("signup_otp", NOTIFY_EMAIL,
                "{\"otp\":\"042917\",\"name\":\"Ann\",\"ttl_minutes\":15}", &r,
                err, sizeof(err));
    UNIT_OK(rc == 0 && strcmp(r.subject, "Your verification code") == 0,
            "signup_otp subject");
    UNIT_OK(rc == 0 && strstr(r.text, "\n042917\n") != NULL,
            "the code is on a line of its own");
    UNIT_OK(rc == 0 && strncmp(r.text, "Hello,\n", 7) == 0 &&
                strstr(r.text, "Ann") == NULL &&
                strstr(r.text, "15 minutes") != NULL,
            "signup_otp greets nobody by name (data.name unused); "
            "ttl_minutes (an integer) filled in");
    UNIT_OK(rc == 0 && strstr(r.text, "If you did not ask for\nthis, ignore "
                                      "this email") != NULL,
            "signup_otp: if you did not ask for it, ignore it");
    notify_rendered_free(&r);

    rc = render("signup_otp", NOTIFY_EMAIL,
                "{\"otp\":\"123456\",\"name\":\"Win a prize at "
                "http://evil.example\"}",
                &r, err, sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "evil") == NULL &&
                strstr(r.text, "10 minutes") != NULL,
            "signup_otp: a name in the job is not mailed; 10 minutes by "
            "default");
    notify_rendered_free(&r);

    rc = render("otp_locked", NOTIFY_EMAIL,
                "{\"name\":\"Ann\",\"what\":\"password_reset\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "wrong password reset codes") != NULL,
            "otp_locked names the kind of code in its own words");
    notify_rendered_free(&r);
    rc = render("otp_locked", NOTIFY_EMAIL, "{\"what\":\"launch\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1, "otp_locked: an unknown kind is refused");

    rc = render("login_alert", NOTIFY_EMAIL,
                "{\"name\":\"Ann\",\"time\":\"2026-12-06 02:40 UTC\","
                "\"address\":\"203.0.113.7\",\"device\":\"Firefox\\r\\n"
                "Bcc: x@evil.example\"}",
                &r, err, sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "Time:    2026-12-06 02:40 UTC\n") &&
                strstr(r.text, "Address: 203.0.113.7\n") != NULL,
            "login_alert: time and address on lines of their own");
    UNIT_OK(rc == 0 && strstr(r.text, "\nBcc:") == NULL &&
                strstr(r.text, "Device:  Firefox  Bcc: x@evil.example\n") !=
                    NULL,
            "login_alert: a User-Agent cannot add lines");
    notify_rendered_free(&r);
    rc = render("login_alert", NOTIFY_EMAIL, "{\"name\":\"Ann\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1, "login_alert: the time is required");
    rc = render("otp_locked", NOTIFY_EMAIL, "{\"what\":\"login\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "wrong sign-in codes") != NULL,
            "otp_locked: login codes are sign-in codes");
    notify_rendered_free(&r);

    rc = render("signup_otp", NOTIFY_EMAIL, "{\"otp\":123456}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "\n123456\n") != NULL,
            "an integer code is accepted");
    notify_rendered_free(&r);

    rc = render("signup_otp", NOTIFY_EMAIL, "{\"name\":\"Ann\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1 && strcmp(err, "missing data.otp") == 0,
            "a missing code is an error naming the field");
    rc = render("login_otp", NOTIFY_EMAIL, "{\"otp\":\"12ab56\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1 && strstr(err, "12ab56") == NULL,
            "a code that is not digits is refused, without echoing it");
    rc = render("login_otp", NOTIFY_EMAIL, "{\"otp\":\"123\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1, "a 3-digit code is refused");
    rc = render("step_up_otp", NOTIFY_EMAIL,
                "{\"otp\":\"123456\",\"ttl_minutes\":\"ten\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1 && strstr(err, "ttl_minutes") != NULL,
            "ttl_minutes must be a number");
    rc = render("welcome", NOTIFY_EMAIL, "{\"name\":{\"a\":1}}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1 && strstr(err, "not a string") != NULL,
            "an object is not a name");
    rc = render("welcome", NOTIFY_EMAIL, "{\"name\":true}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1, "a boolean is not a name");
    rc = render("nope", NOTIFY_EMAIL, "{}", &r, err, sizeof(err));
    UNIT_OK(rc == 1 && strcmp(err, "unknown template") == 0,
            "an unknown template is 1");

    rc = render("welcome", NOTIFY_EMAIL,
                "{\"name\":\"Ann\\r\\nBcc: evil@example.com\\u0001x\"}", &r,
                err, sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "\nBcc:") == NULL &&
                strchr(r.text, '\r') == NULL &&
                strncmp(r.text, "Hi Ann  Bcc: evil@example.com x,\n", 33) == 0,
            "line breaks and NUL in a name become spaces");
    notify_rendered_free(&r);

    rc = render("custom", NOTIFY_EMAIL,
                "{\"subject\":\"Order\\r\\nBcc: x@y.z\","
                "\"text\":\"Line 1\\r\\nLine 2\\rLine 3\\n\\tTabbed\"}",
                &r, err, sizeof(err));
    UNIT_OK(rc == 0 && strcmp(r.subject, "Order  Bcc: x@y.z") == 0,
            "custom subject stays on one line");
    UNIT_OK(rc == 0 && strcmp(r.text, "Line 1\nLine 2\nLine 3\n\tTabbed") == 0,
            "custom text keeps its lines (CRLF and CR become LF)");
    notify_rendered_free(&r);

    rc = render("custom", NOTIFY_EMAIL, "{\"subject\":\"Hi\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1 && strcmp(err, "missing data.text") == 0,
            "custom needs text");
    rc = render("custom", NOTIFY_EMAIL, "{\"subject\":\"\",\"text\":\"x\"}", &r,
                err, sizeof(err));
    UNIT_OK(rc == -1 && strcmp(err, "empty subject") == 0,
            "custom email needs a subject");
    rc = render("custom", NOTIFY_SMS, "{\"text\":\"Your order shipped\"}", &r,
                err, sizeof(err));
    UNIT_OK(rc == 0 && strcmp(r.text, "Your order shipped") == 0,
            "custom SMS needs only text");
    notify_rendered_free(&r);

    rc = render("password_changed", NOTIFY_EMAIL,
                "{\"name\":\"Ann\",\"via\":\"reset\"}", &r, err, sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "reset with a code") != NULL &&
                strstr(r.text, "and every session was signed out.") != NULL &&
                strstr(r.text, "other") == NULL,
            "password_changed via reset: every session signed out");
    notify_rendered_free(&r);
    rc = render("password_changed", NOTIFY_EMAIL,
                "{\"name\":\"Ann\",\"via\":\"change\"}", &r, err, sizeof(err));
    UNIT_OK(rc == 0 &&
                strstr(r.text, "every other session\nwas signed out") != NULL &&
                strstr(r.text, "stays signed in") != NULL,
            "password_changed via change: the caller's session stays");
    notify_rendered_free(&r);
    rc = render("password_changed", NOTIFY_EMAIL, "{\"name\":\"Ann\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "was just changed.\n") != NULL &&
                strstr(r.text, "signed out") == NULL,
            "password_changed without via says nothing about sessions");
    notify_rendered_free(&r);
    rc = render("password_changed", NOTIFY_EMAIL, "{\"via\":\"Reset\\n\"}", &r,
                err, sizeof(err));
    UNIT_OK(rc == -1 && strcmp(err, "bad data.via") == 0,
            "password_changed refuses an unknown via");

    rc = render("signup_otp", NOTIFY_SMS, "{\"otp\":\"123456\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 && strcmp(r.text, "Your verification code is 123456. It "
                                      "expires in 10 minutes.") == 0,
            "signup_otp SMS text");
    notify_rendered_free(&r);

    rc = render_long("welcome", NOTIFY_EMAIL, "name", "x", NOTIFY_VALUE_MAX + 1,
                     NULL, &r, err, sizeof(err));
    UNIT_OK(rc == -1 && strstr(err, "longer than") != NULL,
            "a name over NOTIFY_VALUE_MAX bytes is refused");

    /* what the notification API lets through: a subject of 200 and a text
     * of 5000 characters, each of 4 bytes */
    rc = render_long("custom", NOTIFY_EMAIL, "subject", "\xf0\x9f\x93\xa6", 200,
                     "\"text\":\"x\"", &r, err, sizeof(err));
    UNIT_OK(rc == 0 && strlen(r.subject) == 800,
            "custom: a subject of 200 four-byte characters");
    notify_rendered_free(&r);
    rc = render_long("custom", NOTIFY_EMAIL, "text", "\xf0\x9f\x93\xa6", 5000,
                     "\"subject\":\"s\"", &r, err, sizeof(err));
    UNIT_OK(rc == 0 && strlen(r.text) == 20000,
            "custom: a text of 5000 four-byte characters");
    notify_rendered_free(&r);
    rc = render_long("custom", NOTIFY_SMS, "text", "\xf0\x9f\x93\xa6", 5000,
                     NULL, &r, err, sizeof(err));
    UNIT_OK(rc == 0 && r.subject == NULL && strlen(r.text) == 20000,
            "custom SMS: the same text");
    notify_rendered_free(&r);
    rc = render_long("custom", NOTIFY_SMS, "text", "x", NOTIFY_TEXT_MAX + 1,
                     NULL, &r, err, sizeof(err));
    UNIT_OK(rc == -1 && strstr(err, "longer than") != NULL,
            "custom: a text over NOTIFY_TEXT_MAX bytes is refused");

    rc = render("welcome", NOTIFY_EMAIL, "{\"name\":\"Zoë\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 && strncmp(r.text, "Hi Zoë,\n", 9) == 0,
            "UTF-8 passes through");
    notify_rendered_free(&r);

    /* signup_set_password: why there is no password */
    rc = render("signup_set_password", NOTIFY_EMAIL, "{\"otp\":\"123456\"}", &r,
                err, sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "More than\none sign-up") != NULL &&
                strstr(r.text, "\n123456\n") != NULL,
            "signup_set_password without via: the contested sign-up");
    notify_rendered_free(&r);
    rc = render("signup_set_password", NOTIFY_EMAIL,
                "{\"otp\":\"123456\",\"via\":\"form\"}", &r, err, sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "registration form") != NULL &&
                strstr(r.text, "sign-up was made") == NULL &&
                strstr(r.text, "\n123456\n") != NULL,
            "signup_set_password via form: the registration form");
    notify_rendered_free(&r);
    rc = render("signup_set_password", NOTIFY_EMAIL,
                "{\"otp\":\"123456\",\"via\":\"other\"}", &r, err, sizeof(err));
    UNIT_OK(rc == -1, "signup_set_password refuses an unknown via");

    /* profile_updated: the fields, never a value */
    rc = render("profile_updated", NOTIFY_EMAIL,
                "{\"name\":\"Ann\",\"fields\":\"first name, phone\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 && strcmp(r.subject, "Your profile was updated") == 0 &&
                strstr(r.text, "Hi Ann,") != NULL &&
                strstr(r.text, "just updated: first name, phone.") != NULL,
            "profile_updated names the changed fields");
    notify_rendered_free(&r);
    rc = render("profile_updated", NOTIFY_EMAIL, "{\"name\":\"Ann\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1 && strcmp(err, "missing data.fields") == 0,
            "profile_updated needs fields");

    /* email_changed: to the old address, naming the new one */
    rc = render("email_changed", NOTIFY_EMAIL,
                "{\"name\":\"Ann\",\"new_email\":\"ann@new.example\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "changed to\nann@new.example.") != NULL,
            "email_changed names the new address");
    notify_rendered_free(&r);
    rc = render("email_changed", NOTIFY_EMAIL,
                "{\"new_email\":\"a@b.example\\r\\nBcc: x@y.example\"}", &r,
                err, sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "\r\nBcc") == NULL,
            "email_changed: a line break in new_email is no new line");
    notify_rendered_free(&r);

    rc = render("email_change_taken", NOTIFY_EMAIL, "{}", &r, err, sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "Hi there,") != NULL &&
                strstr(r.text, "no code was sent") != NULL,
            "email_change_taken: a notice, no code");
    notify_rendered_free(&r);

    rc = render("otp_locked", NOTIFY_EMAIL, "{\"what\":\"email_change\"}", &r,
                err, sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "wrong email change codes") != NULL,
            "otp_locked knows email change codes");
    notify_rendered_free(&r);
    notify_rendered_free(NULL);

    return UNIT_DONE();
}
