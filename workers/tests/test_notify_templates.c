/*
 * test_notify_templates.c - the template files, their parser, the shipped
 * templates and their rendering (notify/templates.c, notify/templates/).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "../notify/templates.c"

/* the shipped templates: workers/Makefile names their directory */
#define SHIPPED NOTIFY_TEMPLATES_SRC

static notify_templates_t *ts;


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
    rc = notify_render(ts, tpl, ch, d, r, err, errlen);
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
    rc = notify_render(ts, tpl, ch, d, r, err, errlen);
    json_decref(d);
    return rc;
}


/* Parses src as template "t": 0 ok, -1 refused (reason in err). */
static int
parse(const char *src, char *err, size_t errlen)
{
    int                rc;
    notify_template_t *t;

    err[0] = '\0';
    rc = notify_template_parse("t", src, &t, err, errlen);
    notify_template_free(t);
    return rc;
}


static int
write_file(const char *dir, const char *name, const char *text)
{
    int   ok;
    char  path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL) {
        return 0;
    }
    ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}


#define MINI                                                                   \
    "subject: Hi\nvar: name text = there\n--- text\nHi {{name}}\n"             \
    "--- html\n<p>Hi {{name}}</p>\n"


static void
test_parser(void)
{
    int                rc;
    char               err[256];
    notify_template_t *t;

    rc = notify_template_parse("t", MINI, &t, err, sizeof(err));
    UNIT_OK(rc == 0 && strcmp(t->subject, "Hi") == 0 &&
                strcmp(t->text, "Hi {{name}}") == 0 &&
                strcmp(t->html, "<p>Hi {{name}}</p>") == 0 && t->sms == NULL &&
                t->nvars == 1 && strcmp(t->vars[0].def, "there") == 0 &&
                t->to_name == -1 && t->list_unsubscribe == 0,
            "a minimal template: subject, a var with a default, text, html");
    notify_template_free(t);
    UNIT_INT(parse("# c\r\nsubject: Hi\r\n--- text\r\nx\r\n--- html\r\n"
                   "y\r\n",
                   err, sizeof(err)),
             0, "CRLF files and comments");

    UNIT_INT(parse("--- text\nx\n--- html\ny\n", err, sizeof(err)), -1,
             "no subject: refused");
    UNIT_STR(err, "no subject: line", "... saying so");
    UNIT_INT(parse("subject: s\n--- text\nx\n", err, sizeof(err)), -1,
             "no html part: refused");
    UNIT_STR(err, "no \"--- html\" part", "... saying so");
    UNIT_INT(parse("subject: s\nvar: a text\nvar: a otp\n--- text\nx\n"
                   "--- html\ny\n",
                   err, sizeof(err)),
             -1, "a variable declared twice");
    UNIT_STR(err, "line 3: variable a declared twice", "... with its line");
    UNIT_INT(parse("subject: s\nvar: a colour\n--- text\nx\n--- html\ny\n", err,
                   sizeof(err)),
             -1, "an unknown kind");
    UNIT_OK(strncmp(err, "line 2: unknown kind \"colour\"", 29) == 0,
            "... named, with its line");
    UNIT_INT(
        parse("subject: s\n--- text\n{{who}}\n--- html\ny\n", err, sizeof(err)),
        -1, "an undeclared variable");
    UNIT_STR(err, "line 2: text: {{who}} is not declared (var:)",
             "... named, with the line of its part");
    UNIT_INT(
        parse("subject: s\n--- text\nx\n--- html\n{{oops\n", err, sizeof(err)),
        -1, "an unclosed {{");
    UNIT_INT(parse("subject: s\nfrom: x\n--- text\nx\n--- html\ny\n", err,
                   sizeof(err)),
             -1, "an unknown key");
    UNIT_OK(strncmp(err, "line 2: unknown key \"from\"", 26) == 0,
            "... named, with its line");
    UNIT_INT(parse("subject: s\n--- text\nx\n--- html\ny\n--- footer\nz\n", err,
                   sizeof(err)),
             -1, "an unknown part");
    UNIT_OK(strncmp(err, "line 6: unknown part \"footer\"", 29) == 0,
            "... named, with its line");
    UNIT_INT(parse("subject: s\n--- text\nx\n--- html\ny\n--- text\nz\n", err,
                   sizeof(err)),
             -1, "a part given twice");
    UNIT_INT(parse("subject: s\nvar: v choice\n--- text\n{{v}}\n--- html\n"
                   "y\n",
                   err, sizeof(err)),
             -1, "a choice variable without choices");
    UNIT_INT(parse("subject: s\nvar: v choice = c\n--- text\n{{v}}\n"
                   "--- html\ny\n--- choice v a\nA\n",
                   err, sizeof(err)),
             -1, "a choice default that is none of the choices");
    UNIT_INT(parse("subject: s\nvar: v text\n--- text\n{{v}}\n--- html\n"
                   "y\n--- choice v a\nA\n",
                   err, sizeof(err)),
             -1, "choices for a text variable");
    UNIT_INT(parse("subject: s\nvar: otp otp\nto-name: otp\n--- text\nx\n"
                   "--- html\ny\n",
                   err, sizeof(err)),
             -1, "to-name must be a text variable");
    UNIT_INT(parse("subject: s\nlist-unsubscribe: maybe\n--- text\nx\n"
                   "--- html\ny\n",
                   err, sizeof(err)),
             -1, "list-unsubscribe is yes or no");
    UNIT_INT(notify_template_parse("../etc", MINI, &t, err, sizeof(err)), -1,
             "a template name with a slash is refused");
}


static void
test_dirs(void)
{
    int                 rc;
    char                err[512], ship[] = "/tmp/tpl-shipXXXXXX";
    char                dep[] = "/tmp/tpl-depXXXXXX";
    json_t             *d;
    notify_templates_t *set;
    notify_rendered_t   r;

    UNIT_OK(mkdtemp(ship) != NULL && mkdtemp(dep) != NULL, "temp dirs");
    write_file(ship, "hello.tpl", MINI);
    write_file(ship, "README.md", "not a template");
    write_file(dep, "hello.tpl",
               "subject: Ours\nvar: name text = there\n--- text\nYo {{name}}\n"
               "--- html\n<b>Yo {{name}}</b>\n");
    write_file(dep, "extra.tpl", MINI);

    rc = notify_templates_load(ship, NULL, &set, err, sizeof(err));
    UNIT_OK(rc == 0 && notify_template_name(set, 0) != NULL &&
                strcmp(notify_template_name(set, 0), "hello") == 0 &&
                notify_template_name(set, 1) == NULL,
            "the shipped directory alone; other files are not templates");
    notify_templates_free(set);

    rc = notify_templates_load(ship, dep, &set, err, sizeof(err));
    UNIT_OK(rc == 0, "shipped and deployment directories");
    d = json_pack("{s:s}", "name", "Ann");
    UNIT_OK(rc == 0 &&
                notify_render(set, "hello", NOTIFY_EMAIL, d, &r, err,
                              sizeof(err)) == 0 &&
                strcmp(r.subject, "Ours") == 0 && strcmp(r.text, "Yo Ann") == 0,
            "a deployment template replaces the shipped one of its name");
    notify_rendered_free(&r);
    UNIT_OK(rc == 0 && notify_render(set, "extra", NOTIFY_EMAIL, d, &r, err,
                                     sizeof(err)) == 0,
            "a deployment template adds a type");
    notify_rendered_free(&r);
    json_decref(d);
    notify_templates_free(set);

    write_file(dep, "broken.tpl", "subject: s\n--- text\n{{nope}}\n");
    rc = notify_templates_load(ship, dep, &set, err, sizeof(err));
    UNIT_OK(rc == -1 && set == NULL && strstr(err, "/broken.tpl: ") != NULL,
            "a malformed file is refused, naming the file");
    write_file(dep, "broken.tpl", "subject: s\n--- text\nx\n--- html\ny\n");
    write_file(dep, "Bad Name.tpl", MINI);
    rc = notify_templates_load(ship, dep, &set, err, sizeof(err));
    UNIT_OK(rc == -1 && strstr(err, "bad template name") != NULL,
            "a file name that is no template name is refused");
    rc =
        notify_templates_load("/nonexistent/tpl", NULL, &set, err, sizeof(err));
    UNIT_OK(rc == -1 && strstr(err, "/nonexistent/tpl: cannot open") != NULL,
            "a missing directory is refused");
    rc =
        notify_templates_load(ship, "/nonexistent/dep", &set, err, sizeof(err));
    UNIT_OK(rc == -1 && strstr(err, "/nonexistent/dep") != NULL,
            "a missing deployment directory is refused");

    snprintf(err, sizeof(err), "rm -rf '%s' '%s'", ship, dep);
    UNIT_INT(system(err), 0, "temp dirs removed");
}

/* The HTML part, the To name and List-Unsubscribe of the shipped ones. */
static void
test_shipped_more(void)
{
    int                      rc, unsub_ok = 1;
    char                     err[256];
    size_t                   i;
    const char              *name;
    notify_rendered_t        r;
    static const char *const unsub[] = { "welcome", "profile_updated",
                                         "order_placed", NULL };

    rc = render("welcome", NOTIFY_EMAIL,
                "{\"name\":\"<script>alert('x')</script> & \\\"Zo\u00eb\\\"\"}",
                &r, err, sizeof(err));
    UNIT_OK(rc == 0 &&
                strstr(r.html,
                       "Hi &lt;script&gt;alert(&apos;x&apos;)&lt;/"
                       "script&gt; &amp; &quot;Zo\xc3\xab&quot;,") != NULL &&
                strstr(r.html, "<script>") == NULL,
            "HTML part: the name is HTML-escaped");
    UNIT_OK(rc == 0 && strncmp(r.text,
                               "Hi <script>alert('x')</script> & "
                               "\"Zo\xc3\xab\",\n",
                               41) == 0,
            "text part: the name as it is");
    UNIT_OK(rc == 0 && r.to_name != NULL &&
                strcmp(r.to_name, "<script>alert('x')</script> & "
                                  "\"Zo\xc3\xab\"") == 0,
            "welcome: the To display name is data.name");
    notify_rendered_free(&r);

    rc = render("welcome", NOTIFY_EMAIL, "{}", &r, err, sizeof(err));
    UNIT_OK(rc == 0 && r.to_name == NULL && strstr(r.text, "Hi there,"),
            "no name given: no To display name (the default is not one)");
    notify_rendered_free(&r);
    rc = render("signup_otp", NOTIFY_EMAIL,
                "{\"otp\":\"123456\",\"name\":\"Ann\"}", &r, err, sizeof(err));
    UNIT_OK(rc == 0 && r.to_name == NULL,
            "signup_otp: no To display name (the address is not proved)");
    UNIT_OK(rc == 0 && strstr(r.html, ">123456</p>") != NULL,
            "signup_otp: the code in the HTML part");
    notify_rendered_free(&r);

    rc = render("login_alert", NOTIFY_EMAIL,
                "{\"time\":\"now\",\"device\":\"<img src=x onerror=y>\"}", &r,
                err, sizeof(err));
    UNIT_OK(rc == 0 &&
                strstr(r.html, "<td>&lt;img src=x onerror=y&gt;</td>") !=
                    NULL &&
                strstr(r.text, "Device:  <img src=x onerror=y>\n") != NULL,
            "login_alert: a User-Agent escaped in HTML, as it is in text");
    notify_rendered_free(&r);

    rc = render("custom", NOTIFY_EMAIL,
                "{\"subject\":\"<b>Hi</b>\",\"text\":\"a<b\\nc&d\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 && strcmp(r.subject, "<b>Hi</b>") == 0 &&
                strstr(r.html, "<title>&lt;b&gt;Hi&lt;/b&gt;</title>") !=
                    NULL &&
                strstr(r.html, ">a&lt;b\nc&amp;d</div>") != NULL,
            "custom: subject as it is, HTML escaped, lines kept");
    notify_rendered_free(&r);

    rc = render("password_changed", NOTIFY_EMAIL, "{\"via\":\"reset\"}", &r,
                err, sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.html, "reset with a code sent to this\n"
                                      "address") != NULL,
            "choice words in the HTML part too");
    notify_rendered_free(&r);

    for (i = 0; (name = notify_template_name(ts, i)) != NULL; i++) {
        const notify_template_t *t = notify_template_find(ts, name);
        int                      want = 0, j;

        for (j = 0; unsub[j] != NULL; j++) {
            want |= strcmp(unsub[j], name) == 0;
        }
        if (t->list_unsubscribe != want) {
            printf("# %s: list-unsubscribe %d\n", name, t->list_unsubscribe);
            unsub_ok = 0;
        }
    }
    UNIT_OK(unsub_ok, "List-Unsubscribe: welcome, profile_updated and "
                      "order_placed only");

    rc = render("order_placed", NOTIFY_EMAIL,
                "{\"name\":\"Ann\",\"order_id\":\"4711\",\"total\":"
                "\"EUR 12.50\"}",
                &r, err, sizeof(err));
    UNIT_OK(rc == 0 && strcmp(r.subject, "Your order 4711 is confirmed") == 0 &&
                strstr(r.text, "Order: 4711\n  Total: EUR 12.50\n") != NULL &&
                r.list_unsubscribe == 1,
            "order_placed: subject with the order, its lines");
    notify_rendered_free(&r);
    rc = render("order_placed", NOTIFY_EMAIL,
                "{\"order_id\":\"4711\",\"total\":\"59.97\","
                "\"lines\":\"3 x Mug <b> at 19.99 = 59.97\\n1 x Lamp\"}",
                &r, err, sizeof(err));
    UNIT_OK(rc == 0 &&
                strstr(r.text, "3 x Mug <b> at 19.99 = 59.97\n1 x Lamp") !=
                    NULL &&
                strstr(r.html, "3 x Mug &lt;b&gt; at 19.99 = 59.97") != NULL,
            "order_placed: the lines in the text, escaped in the HTML");
    notify_rendered_free(&r);
    rc = render("order_placed", NOTIFY_EMAIL, "{\"total\":\"1\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == -1 && strcmp(err, "missing data.order_id") == 0,
            "order_placed needs order_id");
    rc = render("account_locked", NOTIFY_EMAIL, "{\"minutes\":15}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 && strstr(r.text, "locked\nfor 15 minutes") != NULL &&
                r.list_unsubscribe == 0,
            "account_locked: for how long");
    notify_rendered_free(&r);
    rc = render("account_locked", NOTIFY_EMAIL, "{\"minutes\":\"soon\"}", &r,
                err, sizeof(err));
    UNIT_OK(rc == -1, "account_locked: minutes is a number");
    rc = render("email_change", NOTIFY_EMAIL, "{\"otp\":\"123456\"}", &r, err,
                sizeof(err));
    UNIT_OK(rc == 0 &&
                strcmp(r.subject, "Confirm your new email address") == 0 &&
                strstr(r.text, "\n123456\n") != NULL,
            "email_change: the email_change_otp mail");
    notify_rendered_free(&r);
}


int
main(void)
{
    int               rc, all_ok = 1, sms_ok = 1, count = 0;
    char              err[512];
    size_t            i;
    const char       *name, *full;
    notify_rendered_t r;

    test_parser();
    test_dirs();

    rc = notify_templates_load(SHIPPED, NULL, &ts, err, sizeof(err));
    UNIT_OK(rc == 0, "the shipped templates load");
    if (rc != 0) {
        printf("# %s\n", err);
        return UNIT_DONE();
    }

    full = "{\"otp\":\"123456\",\"name\":\"Ann\",\"ttl_minutes\":10,"
           "\"subject\":\"Hello\",\"text\":\"Body\",\"attempts\":51,"
           "\"fields\":\"phone\",\"new_email\":\"b@example.com\","
           "\"time\":\"2026-12-06 02:40 UTC\",\"minutes\":15,"
           "\"order_id\":\"4711\",\"total\":\"EUR 12.50\"}";

    for (i = 0; (name = notify_template_name(ts, i)) != NULL; i++) {
        count++;
        rc = render(name, NOTIFY_EMAIL, full, &r, err, sizeof(err));
        if (rc != 0 || r.subject[0] == '\0' || r.text[0] == '\0' ||
            r.html == NULL || strstr(r.html, "<html") == NULL ||
            strchr(r.subject, '\n') != NULL || strstr(r.text, "{{") != NULL ||
            strstr(r.html, "{{") != NULL) {
            printf("# %s: %s\n", name, rc != 0 ? err : "bad result");
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
    UNIT_INT(count, 19, "nineteen shipped templates");
    UNIT_INT(notify_templates_count(ts), 19, "... counted");
    UNIT_OK(all_ok, "every template renders an email: subject, text, HTML");
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

    test_shipped_more();
    notify_templates_free(ts);
    return UNIT_DONE();
}
