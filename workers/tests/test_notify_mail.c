/*
 * test_notify_mail.c - header sanitising, MAIL_FROM and
 * MAIL_LIST_UNSUBSCRIBE parsing, the MIME message (read back with GMime's
 * parser) and the SMTP / webhook result classification (notify/mail.c,
 * notify/sms.c).
 */
#include <string.h>

#include <curl/curl.h>
#include <gmime/gmime.h>

#include "unit.h"

#include "../notify/job.c"
#include "../notify/mail.c"
#include "../notify/sms.c"
#include "../notify/conn.c"


static int
clean_is(const char *in, const char *want)
{
    int   ok;
    char *s = notify_header_clean(in);

    ok = s != NULL && strcmp(s, want) == 0;
    free(s);
    return ok;
}


/* The message parsed back by GMime (NULL if it does not parse). */
static GMimeMessage *
parse_back(const char *msg)
{
    GMimeStream  *st;
    GMimeParser  *p;
    GMimeMessage *m;

    st = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
    p = g_mime_parser_new_with_stream(st);
    m = g_mime_parser_construct_message(p, NULL);
    g_object_unref(p);
    g_object_unref(st);
    return m;
}


static int
mime_type_is(GMimeObject *o, const char *want)
{
    int   ok;
    char *t =
        g_mime_content_type_get_mime_type(g_mime_object_get_content_type(o));

    ok = t != NULL && strcmp(t, want) == 0;
    g_free(t);
    return ok;
}


/* The decoded content of part i of m's multipart (NULL if none), CRLF
 * made LF. */
static char *
part_text(GMimeMessage *m, int i, const char *want_type)
{
    GMimeObject *body, *part;
    char        *t, *o, *p;

    body = g_mime_message_get_mime_part(m);
    if (!GMIME_IS_MULTIPART(body) ||
        i >= g_mime_multipart_get_count(GMIME_MULTIPART(body))) {
        return NULL;
    }
    part = g_mime_multipart_get_part(GMIME_MULTIPART(body), i);
    if (!GMIME_IS_TEXT_PART(part) || !mime_type_is(part, want_type)) {
        return NULL;
    }
    t = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
    for (o = p = t; p != NULL && *p != '\0'; p++) {
        if (*p != '\r') {
            *o++ = *p;
        }
    }
    if (t != NULL) {
        *o = '\0';
    }
    return t;
}


/* The name and address of the only mailbox of list type of m. */
static int
mailbox_is(GMimeMessage *m, GMimeAddressType type, const char *name,
           const char *addr)
{
    InternetAddress     *ia;
    InternetAddressList *l = g_mime_message_get_addresses(m, type);
    const char          *got;

    if (internet_address_list_length(l) != 1) {
        return 0;
    }
    ia = internet_address_list_get_address(l, 0);
    got = internet_address_get_name(ia);
    if ((name == NULL) != (got == NULL || got[0] == '\0') ||
        (name != NULL && strcmp(name, got) != 0)) {
        printf("#   name: %s\n", got != NULL ? got : "(none)");
        return 0;
    }
    return strcmp(
               internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)),
               addr) == 0;
}


static int
no_bare_lf(const char *s)
{
    const char *p;

    for (p = s; *p != '\0'; p++) {
        if ((*p == '\n' && (p == s || p[-1] != '\r')) ||
            (*p == '\r' && p[1] != '\n')) {
            return 0;
        }
    }
    return 1;
}


/* A message for job with r, parsed back; the raw text in *raw. */
static GMimeMessage *
build(const notify_mail_conf_t *mc, const notify_job_t *job,
      const notify_rendered_t *r, time_t when, char **raw)
{
    *raw = notify_mail_build(mc, job, r, when);
    return *raw != NULL ? parse_back(*raw) : NULL;
}


int
main(void)
{
    int                rc;
    char               err[256], *msg, *msg2, *t;
    char              *body;
    time_t             when = 1795410000; /* Mon, 23 Nov 2026 05:00:00 */
    notify_job_t       job;
    GMimeMessage      *m;
    notify_mail_conf_t mc;
    notify_rendered_t  r;
    const char        *h;
    notify_conn_t      conn = { NULL };

    notify_mail_init();

    /* header hygiene */
    UNIT_OK(clean_is("a\r\nb", "a b"), "CRLF becomes one space");
    UNIT_OK(clean_is("  x \t  y  ", "x y"), "blanks collapse and trim");
    UNIT_OK(clean_is("\x01\x7f", ""), "controls only: empty");
    UNIT_OK(clean_is("Hi\r\nBcc: evil@x.y", "Hi Bcc: evil@x.y"),
            "no header can be added");
    UNIT_OK(clean_is("Grüße", "Grüße"), "UTF-8 is kept");

    /* MAIL_FROM */
    memset(&mc, 0, sizeof(mc));
    rc = notify_mail_from_parse(&mc, "Identity <no-reply@identity.localhost>",
                                err, sizeof(err));
    UNIT_OK(rc == 0 &&
                strcmp(mc.from_addr, "no-reply@identity.localhost") == 0 &&
                strcmp(mc.from_name, "Identity") == 0 &&
                strcmp(mc.from_domain, "identity.localhost") == 0,
            "Name <address>");
    notify_mail_conf_free(&mc);
    rc = notify_mail_from_parse(&mc, "no-reply@x.org", err, sizeof(err));
    UNIT_OK(rc == 0 && mc.from_name == NULL, "a bare address");
    notify_mail_conf_free(&mc);
    rc = notify_mail_from_parse(&mc, "\"Acme, Inc.\" <a@b.co>", err,
                                sizeof(err));
    UNIT_OK(rc == 0 && strcmp(mc.from_name, "Acme, Inc.") == 0,
            "a quoted name");
    notify_mail_conf_free(&mc);
    UNIT_OK(
        notify_mail_from_parse(&mc, "Name <nope>", err, sizeof(err)) == -1 &&
            notify_mail_from_parse(&mc, "a@b.co\r\nBcc: x@y.z", err,
                                   sizeof(err)) == -1 &&
            notify_mail_from_parse(&mc, "<a@b.co> x", err, sizeof(err)) == -1 &&
            notify_mail_from_parse(&mc, "\xff <a@b.co>", err, sizeof(err)) ==
                -1 &&
            notify_mail_from_parse(&mc, "", err, sizeof(err)) == -1,
        "bad MAIL_FROM values are refused");

    /* MAIL_LIST_UNSUBSCRIBE */
    rc = notify_mail_unsubscribe_parse(
        &mc, "mailto:unsubscribe@example.com, https://example.com/u?l=1", err,
        sizeof(err));
    UNIT_OK(rc == 0 &&
                strcmp(mc.unsubscribe, "<mailto:unsubscribe@example.com>, "
                                       "<https://example.com/u?l=1>") == 0,
            "List-Unsubscribe: URIs in angle brackets");
    notify_mail_conf_free(&mc);
    UNIT_OK(
        notify_mail_unsubscribe_parse(&mc, "ftp://x", err, sizeof(err)) == -1 &&
            notify_mail_unsubscribe_parse(&mc, "mailto:a@b.c>\r\nBcc: x", err,
                                          sizeof(err)) == -1 &&
            notify_mail_unsubscribe_parse(&mc, "https://a b", err,
                                          sizeof(err)) == -1 &&
            notify_mail_unsubscribe_parse(&mc, " , ", err, sizeof(err)) == -1 &&
            mc.unsubscribe == NULL,
        "List-Unsubscribe: other schemes, brackets, blanks refused");

    /* the message */
    notify_mail_from_parse(&mc, "Identität <no-reply@identity.localhost>", err,
                           sizeof(err));
    notify_mail_unsubscribe_parse(&mc, "mailto:unsubscribe@identity.localhost",
                                  err, sizeof(err));
    memset(&job, 0, sizeof(job));
    job.id = "3f0c1c2e-8a7b-4c4e-9d1a-0b5a6f7e8d9c";
    job.to = "ann@example.com";
    memset(&r, 0, sizeof(r));
    r.subject = "Your verification code";
    r.text = "Hi Ann,\n\n123456\n\n.\nBye";
    r.html = "<p>Hi Ann,</p>\n<p>123456</p>";
    m = build(&mc, &job, &r, when, &msg);
    UNIT_OK(m != NULL, "the message parses back");
    UNIT_OK(msg != NULL && no_bare_lf(msg), "CRLF everywhere");
    h = m != NULL ? g_mime_object_get_header(GMIME_OBJECT(m), "Date") : NULL;
    UNIT_STR(h, "Mon, 23 Nov 2026 05:00:00 +0000",
             "Date in RFC 5322 form, UTC");
    UNIT_OK(m != NULL && mailbox_is(m, GMIME_ADDRESS_TYPE_FROM, "Identität",
                                    "no-reply@identity.localhost"),
            "From: a UTF-8 display name, decoded back");
    UNIT_OK(msg != NULL && strstr(msg, "Identität") == NULL,
            "... encoded in the raw message");
    UNIT_OK(m != NULL &&
                mailbox_is(m, GMIME_ADDRESS_TYPE_TO, NULL, "ann@example.com"),
            "To: the address, no name when the template gives none");
    UNIT_STR(m != NULL ? g_mime_message_get_subject(m) : NULL,
             "Your verification code", "Subject");
    UNIT_OK(msg != NULL &&
                strstr(msg, "\r\nSubject: Your verification code\r\n") != NULL,
            "an ASCII subject as it is");
    UNIT_STR(m != NULL ? g_mime_message_get_message_id(m) : NULL,
             "notify.3f0c1c2e-8a7b-4c4e-9d1a-0b5a6f7e8d9c@identity.localhost",
             "Message-ID from the job id, on MAIL_FROM's domain");
    UNIT_STR(m != NULL ? g_mime_object_get_header(GMIME_OBJECT(m),
                                                  "X-Identity-Job-Id")
                       : NULL,
             "3f0c1c2e-8a7b-4c4e-9d1a-0b5a6f7e8d9c", "X-Identity-Job-Id");
    UNIT_STR(m != NULL
                 ? g_mime_object_get_header(GMIME_OBJECT(m), "Auto-Submitted")
                 : NULL,
             "auto-generated", "Auto-Submitted");
    UNIT_OK(m != NULL && g_mime_object_get_header(GMIME_OBJECT(m),
                                                  "List-Unsubscribe") == NULL,
            "no List-Unsubscribe unless the template asks");
    UNIT_OK(msg != NULL && strstr(msg, "\r\nMIME-Version: 1.0\r\n") != NULL,
            "MIME-Version");
    UNIT_OK(m != NULL && mime_type_is(g_mime_message_get_mime_part(m),
                                      "multipart/alternative"),
            "multipart/alternative");
    t = m != NULL ? part_text(m, 0, "text/plain") : NULL;
    UNIT_STR(t, "Hi Ann,\n\n123456\n\n.\nBye\n",
             "first part: text/plain, its text ending its last line");
    g_free(t);
    t = m != NULL ? part_text(m, 1, "text/html") : NULL;
    UNIT_STR(t, "<p>Hi Ann,</p>\n<p>123456</p>", "second part: text/html");
    g_free(t);
    UNIT_OK(msg != NULL && strstr(msg, "charset=utf-8") != NULL &&
                strstr(msg, "Content-Transfer-Encoding: 7bit\r\n") != NULL &&
                strstr(msg, "\r\n123456\r\n") != NULL,
            "ASCII parts 7bit, the code on a line of its own");
    if (m != NULL) {
        g_object_unref(m);
    }
    msg2 = notify_mail_build(&mc, &job, &r, when + 3600);
    UNIT_OK(msg != NULL && msg2 != NULL &&
                strcasestr(msg2, "\r\nMessage-ID: <notify.3f0c1c2e-8a7b-4c4e-"
                                 "9d1a-0b5a6f7e8d9c@identity.localhost>\r\n") !=
                    NULL &&
                strcasestr(msg,
                           "\r\nMessage-ID: <notify.3f0c1c2e-8a7b-4c4e-"
                           "9d1a-0b5a6f7e8d9c@identity.localhost>\r\n") != NULL,
            "a later attempt of the job: the same Message-ID");
    free(msg);
    free(msg2);

    r.list_unsubscribe = 1;
    m = build(&mc, &job, &r, when, &msg);
    UNIT_STR(m != NULL
                 ? g_mime_object_get_header(GMIME_OBJECT(m), "List-Unsubscribe")
                 : NULL,
             "<mailto:unsubscribe@identity.localhost>",
             "List-Unsubscribe when the template asks and it is configured");
    if (m != NULL) {
        g_object_unref(m);
    }
    free(msg);
    t = mc.unsubscribe;
    mc.unsubscribe = NULL;
    msg = notify_mail_build(&mc, &job, &r, when);
    UNIT_OK(msg != NULL && strstr(msg, "List-Unsubscribe") == NULL,
            "... and none when it is not configured");
    free(msg);
    mc.unsubscribe = t;
    r.list_unsubscribe = 0;

    r.subject = "Hi\r\nBcc: evil@example.com";
    r.text = "x";
    r.to_name = "Ann\r\nBcc: evil@example.com";
    msg = notify_mail_build(&mc, &job, &r, when);
    UNIT_OK(msg != NULL && strstr(msg, "\r\nBcc:") == NULL && no_bare_lf(msg),
            "CRLF in a subject or a name cannot add a header");
    free(msg);

    r.subject = "Willkommen, Zoë Ünal";
    r.text = "Hallo Zoë,\n\n123456\n";
    r.html = "<p>Hallo Zoë,</p>";
    r.to_name = "Zoë \"Z\" Ünal, Jr.";
    m = build(&mc, &job, &r, when, &msg);
    UNIT_STR(m != NULL ? g_mime_message_get_subject(m) : NULL,
             "Willkommen, Zoë Ünal", "a UTF-8 subject, decoded back");
    UNIT_OK(msg != NULL && strstr(msg, "Zoë") == NULL &&
                strstr(msg, "\r\nSubject: Willkommen, =?UTF-8?") != NULL,
            "... RFC 2047-encoded in the raw message");
    UNIT_OK(m != NULL && mailbox_is(m, GMIME_ADDRESS_TYPE_TO,
                                    "Zoë \"Z\" Ünal, Jr.", "ann@example.com"),
            "To: a UTF-8 display name with specials, decoded back");
    t = m != NULL ? part_text(m, 0, "text/plain") : NULL;
    UNIT_STR(t, "Hallo Zoë,\n\n123456\n", "a UTF-8 text part, decoded back");
    g_free(t);
    body = msg != NULL ? strstr(msg, "\r\n\r\n") : NULL;
    UNIT_OK(body != NULL &&
                strstr(body, "Content-Transfer-Encoding: "
                             "quoted-printable\r\n") != NULL &&
                strstr(body, "\r\n123456\r\n") != NULL &&
                strstr(body, "Content-Transfer-Encoding: base64") == NULL,
            "non-ASCII parts: quoted-printable, the code intact");
    if (m != NULL) {
        g_object_unref(m);
    }
    free(msg);
    notify_mail_conf_free(&mc);

    /* what a result means */
    UNIT_OK(notify_smtp_classify(CURLE_OK, 250) == NOTIFY_SENT, "250 sent");
    UNIT_OK(notify_smtp_classify(CURLE_COULDNT_CONNECT, 0) == NOTIFY_TRANSIENT,
            "server down: transient");
    UNIT_OK(notify_smtp_classify(CURLE_OPERATION_TIMEDOUT, 0) ==
                NOTIFY_TRANSIENT,
            "timeout: transient");
    UNIT_OK(notify_smtp_classify(CURLE_SEND_ERROR, 451) == NOTIFY_TRANSIENT,
            "451: transient");
    UNIT_OK(notify_smtp_classify(CURLE_SEND_ERROR, 550) == NOTIFY_PERMANENT,
            "550: permanent");
    UNIT_OK(notify_smtp_classify(CURLE_LOGIN_DENIED, 535) == NOTIFY_TRANSIENT,
            "bad credentials are ours: transient");
    UNIT_OK(notify_http_classify(CURLE_OK, 200) == NOTIFY_SENT &&
                notify_http_classify(CURLE_OK, 202) == NOTIFY_SENT,
            "webhook 2xx sent");
    UNIT_OK(notify_http_classify(CURLE_OK, 400) == NOTIFY_PERMANENT &&
                notify_http_classify(CURLE_OK, 422) == NOTIFY_PERMANENT,
            "webhook 4xx permanent");
    UNIT_OK(notify_http_classify(CURLE_OK, 429) == NOTIFY_TRANSIENT &&
                notify_http_classify(CURLE_OK, 503) == NOTIFY_TRANSIENT &&
                notify_http_classify(CURLE_COULDNT_CONNECT, 0) ==
                    NOTIFY_TRANSIENT,
            "webhook 429, 5xx, refused: transient");

    /* TLS unless the server is on loopback */
    memset(&mc, 0, sizeof(mc));
    UNIT_OK(notify_smtp_loopback("smtp://127.0.0.1:25") &&
                notify_smtp_loopback("smtp://127.8.9.1") &&
                notify_smtp_loopback("smtp://[::1]:25") &&
                notify_smtp_loopback("smtp://LocalHost:2525") &&
                notify_smtp_loopback("smtp://u:p@127.0.0.1:25/x"),
            "loopback hosts");
    UNIT_OK(!notify_smtp_loopback("smtp://mail.example.com:25") &&
                !notify_smtp_loopback("smtp://10.0.0.1") &&
                !notify_smtp_loopback("smtp://127.0.0.1.example.com") &&
                !notify_smtp_loopback("smtp://localhost.example.com") &&
                !notify_smtp_loopback("smtp://[::2]:25") &&
                !notify_smtp_loopback("smtp://127.0.0.1@mail.example.com"),
            "other hosts are not loopback");
    UNIT_INT(notify_smtp_policy(&mc, "smtp://mail.example.com:25", 0, err,
                                sizeof(err)),
             -1, "plain smtp:// to another host refused");
    UNIT_OK(strstr(err, "smtps://") != NULL &&
                strstr(err, "SMTP_STARTTLS=true") != NULL,
            "the reason says what to use instead");
    UNIT_INT(notify_smtp_policy(&mc, "smtp://mail.example.com:587", 1, err,
                                sizeof(err)),
             0, "smtp:// with STARTTLS accepted");
    UNIT_INT(mc.starttls, 1, "... and STARTTLS required");
    UNIT_INT(notify_smtp_policy(&mc, "smtps://mail.example.com", 0, err,
                                sizeof(err)),
             0, "smtps:// accepted");
    UNIT_INT(mc.starttls, 0, "... TLS from the start");
    UNIT_INT(
        notify_smtp_policy(&mc, "smtp://127.0.0.1:2525", 0, err, sizeof(err)),
        0, "plain smtp:// on loopback accepted");
    UNIT_INT(
        notify_smtp_policy(&mc, "http://mail.example.com", 1, err, sizeof(err)),
        -1, "another scheme refused");

    /* nothing listens on port 1: a quick transient failure */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    notify_mail_from_parse(&mc, "a@b.co", err, sizeof(err));
    mc.url = "smtp://127.0.0.1:1";
    UNIT_OK(notify_smtp_send(&conn, &mc, "ann@example.com",
                             "Subject: x\r\n\r\nx\r\n", err,
                             sizeof(err)) == NOTIFY_TRANSIENT &&
                strstr(err, "smtp:") != NULL,
            "SMTP server down: transient with a reason");
    notify_mail_conf_free(&mc);
    UNIT_OK(notify_sms_send(&conn, "http://127.0.0.1:1/sms", NULL,
                            "+4915112345678", "hi", err,
                            sizeof(err)) == NOTIFY_TRANSIENT,
            "webhook down: transient");
    notify_conn_close(&conn);
    curl_global_cleanup();

    notify_mail_shutdown();
    return UNIT_DONE();
}
