/*
 * test_notify_mail.c - header sanitising, RFC 2047, quoted-printable,
 * MAIL_FROM parsing, the RFC 5322 message and the SMTP / webhook result
 * classification (notify/mail.c, notify/sms.c).
 */
#include <string.h>

#include <curl/curl.h>

#include "unit.h"

#include "../notify/job.c"
#include "../notify/mail.c"
#include "../notify/sms.c"


static int
clean_is(const char *in, const char *want)
{
    int   ok;
    char *s = notify_header_clean(in);

    ok = s != NULL && strcmp(s, want) == 0;
    free(s);
    return ok;
}


static int
enc_is(const char *in, const char *want)
{
    int   ok;
    char *s = notify_rfc2047(in);

    ok = s != NULL && strcmp(s, want) == 0;
    free(s);
    return ok;
}


static int
qp_is(const char *in, const char *want)
{
    int   ok;
    char *s = notify_qp_encode(in);

    ok = s != NULL && strcmp(s, want) == 0;
    free(s);
    return ok;
}


/* Every encoded word is <= 75 chars and decodes to whole UTF-8 sequences;
 * together they give back in. */
static int
rfc2047_roundtrip(const char *in)
{
    int           ok = 1;
    char         *s, *w, *save = NULL, back[4096];
    size_t        blen = 0, n, pad;
    unsigned char dec[256];

    s = notify_rfc2047(in);
    if (s == NULL) {
        return 0;
    }
    for (w = strtok_r(s, "\r\n ", &save); w != NULL;
         w = strtok_r(NULL, "\r\n ", &save)) {
        n = strlen(w);
        if (n > 75 || strncmp(w, "=?UTF-8?B?", 10) != 0 ||
            strcmp(w + n - 2, "?=") != 0) {
            ok = 0;
            break;
        }
        w[n - 2] = '\0';
        w += 10;
        n = strlen(w);
        pad = (n > 0 && w[n - 1] == '=') + (n > 1 && w[n - 2] == '=');
        if (n % 4 != 0 || n / 4 * 3 > sizeof(dec)) {
            ok = 0;
            break;
        }
        EVP_DecodeBlock(dec, (unsigned char *) w, (int) n);
        n = n / 4 * 3 - pad;
        if ((dec[0] & 0xc0) == 0x80 || blen + n >= sizeof(back)) {
            ok = 0; /* a word starting inside a UTF-8 sequence */
            break;
        }
        memcpy(back + blen, dec, n);
        blen += n;
    }
    back[blen] = '\0';
    free(s);
    return ok && strcmp(back, in) == 0;
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


static int
qp_lines_short(const char *s)
{
    size_t      col = 0;
    const char *p;

    for (p = s; *p != '\0'; p++) {
        col = (*p == '\n') ? 0 : col + 1;
        if (col > 77) { /* 76 + the CR */
            return 0;
        }
    }
    return 1;
}


int
main(void)
{
    int                rc;
    char               err[256], *msg, *qp, long_line[201], many[200];
    char              *body;
    time_t             when = 1795410000; /* Mon, 23 Nov 2026 05:00:00 */
    notify_job_t       job;
    notify_mail_conf_t mc;
    notify_rendered_t  r;

    /* header hygiene */
    UNIT_OK(clean_is("a\r\nb", "a b"), "CRLF becomes one space");
    UNIT_OK(clean_is("  x \t  y  ", "x y"), "blanks collapse and trim");
    UNIT_OK(clean_is("\x01\x7f", ""), "controls only: empty");
    UNIT_OK(clean_is("Hi\r\nBcc: evil@x.y", "Hi Bcc: evil@x.y"),
            "no header can be added");
    UNIT_OK(clean_is("Grüße", "Grüße"), "UTF-8 is kept");

    /* RFC 2047 */
    UNIT_OK(enc_is("Your verification code", "Your verification code"),
            "ASCII is left alone");
    UNIT_OK(enc_is("Grüße", "=?UTF-8?B?R3LDvMOfZQ==?="),
            "non-ASCII becomes a B encoded word");
    UNIT_OK(enc_is("=?x?=", "=?UTF-8?B?PT94Pz0=?="),
            "ASCII that looks encoded is encoded");
    UNIT_OK(rfc2047_roundtrip("Grüße"), "short round trip");
    memset(many, 0, sizeof(many));
    for (rc = 0; rc < 60; rc++) {
        strcat(many, rc % 3 ? "é" : "x€");
    }
    msg = notify_rfc2047(many);
    UNIT_OK(msg != NULL && strstr(msg, "?=\r\n =?UTF-8?B?") != NULL,
            "a long subject is split into folded words");
    free(msg);
    UNIT_OK(rfc2047_roundtrip(many),
            "words <= 75 chars, never split inside a character");

    /* quoted-printable */
    UNIT_OK(qp_is("abc\n", "abc\r\n"), "plain text, CRLF");
    UNIT_OK(qp_is("a=b", "a=3Db"), "= is encoded");
    UNIT_OK(qp_is("Zoë", "Zo=C3=AB"), "UTF-8 is encoded");
    UNIT_OK(qp_is("a \nb\t", "a=20\r\nb=09"), "trailing blanks are encoded");
    UNIT_OK(qp_is("a b", "a b"), "inner blanks are literal");
    memset(long_line, 'x', 200);
    long_line[200] = '\0';
    qp = notify_qp_encode(long_line);
    UNIT_OK(qp != NULL && qp_lines_short(qp) && strstr(qp, "=\r\n") != NULL,
            "long lines get soft breaks at 76");
    free(qp);

    /* MAIL_FROM */
    memset(&mc, 0, sizeof(mc));
    rc = notify_mail_from_parse(&mc, "Identity <no-reply@identity.localhost>",
                                err, sizeof(err));
    UNIT_OK(rc == 0 &&
                strcmp(mc.from_addr, "no-reply@identity.localhost") == 0 &&
                strcmp(mc.from_header,
                       "Identity <no-reply@identity.localhost>") == 0 &&
                strcmp(mc.from_domain, "identity.localhost") == 0,
            "Name <address>");
    notify_mail_conf_free(&mc);
    rc = notify_mail_from_parse(&mc, "no-reply@x.org", err, sizeof(err));
    UNIT_OK(rc == 0 && strcmp(mc.from_header, "no-reply@x.org") == 0,
            "a bare address");
    notify_mail_conf_free(&mc);
    rc = notify_mail_from_parse(&mc, "\"Acme, Inc.\" <a@b.co>", err,
                                sizeof(err));
    UNIT_OK(rc == 0 && strcmp(mc.from_header, "\"Acme, Inc.\" <a@b.co>") == 0,
            "a name with specials is quoted");
    notify_mail_conf_free(&mc);
    rc = notify_mail_from_parse(&mc, "Zoë <a@b.co>", err, sizeof(err));
    UNIT_OK(rc == 0 &&
                strcmp(mc.from_header, "=?UTF-8?B?Wm/Dqw==?= <a@b.co>") == 0,
            "a non-ASCII name is encoded");
    notify_mail_conf_free(&mc);
    UNIT_OK(
        notify_mail_from_parse(&mc, "Name <nope>", err, sizeof(err)) == -1 &&
            notify_mail_from_parse(&mc, "a@b.co\r\nBcc: x@y.z", err,
                                   sizeof(err)) == -1 &&
            notify_mail_from_parse(&mc, "<a@b.co> x", err, sizeof(err)) == -1 &&
            notify_mail_from_parse(&mc, "", err, sizeof(err)) == -1,
        "bad MAIL_FROM values are refused");

    /* the message */
    notify_mail_from_parse(&mc, "Identity <no-reply@identity.localhost>", err,
                           sizeof(err));
    memset(&job, 0, sizeof(job));
    job.id = "3f0c1c2e-8a7b-4c4e-9d1a-0b5a6f7e8d9c";
    job.to = "ann@example.com";
    r.subject = "Your verification code";
    r.text = "Hi Ann,\n\n123456\n\n.\nBye\n";
    msg = notify_mail_build(&mc, &job, &r, when);
    UNIT_OK(msg != NULL && strncmp(msg,
                                   "Date: Mon, 23 Nov 2026 05:00:00 "
                                   "+0000\r\n",
                                   39) == 0,
            "Date in RFC 5322 form, UTC");
    UNIT_OK(msg != NULL &&
                strstr(msg, "\r\nFrom: Identity <no-reply@identity.localhost>"
                            "\r\n") != NULL &&
                strstr(msg, "\r\nTo: ann@example.com\r\n") != NULL &&
                strstr(msg, "\r\nSubject: Your verification code\r\n") != NULL,
            "From, To, Subject");
    UNIT_OK(msg != NULL &&
                strstr(msg,
                       "\r\nMessage-ID: <notify.3f0c1c2e-8a7b-4c4e-"
                       "9d1a-0b5a6f7e8d9c@identity.localhost>\r\n") != NULL &&
                strstr(msg, "\r\nX-Identity-Job-Id: 3f0c1c2e-8a7b-4c4e-"
                            "9d1a-0b5a6f7e8d9c\r\n") != NULL,
            "Message-ID and X-Identity-Job-Id from the job id");
    UNIT_OK(msg != NULL && strstr(msg, "\r\nMIME-Version: 1.0\r\n") != NULL &&
                strstr(msg, "\r\nContent-Type: text/plain; "
                            "charset=utf-8\r\n") != NULL &&
                strstr(msg, "\r\nContent-Transfer-Encoding: 7bit\r\n") != NULL,
            "MIME headers, 7bit for ASCII");
    body = msg != NULL ? strstr(msg, "\r\n\r\n") : NULL;
    UNIT_OK(body != NULL &&
                strcmp(body, "\r\n\r\nHi Ann,\r\n\r\n123456\r\n\r\n.\r\n"
                             "Bye\r\n") == 0,
            "body after an empty line, code on its own line");
    UNIT_OK(msg != NULL && no_bare_lf(msg), "CRLF everywhere");
    free(msg);

    r.subject = "Hi\r\nBcc: evil@example.com";
    r.text = "x";
    msg = notify_mail_build(&mc, &job, &r, when);
    UNIT_OK(msg != NULL && strstr(msg, "\r\nBcc:") == NULL &&
                strstr(msg, "\r\nSubject: Hi Bcc: evil@example.com\r\n") !=
                    NULL &&
                no_bare_lf(msg),
            "CRLF in a subject cannot add a header");
    free(msg);

    r.subject = "Willkommen, Zoë";
    r.text = "Hallo Zoë,\n\n123456\n";
    msg = notify_mail_build(&mc, &job, &r, when);
    UNIT_OK(msg != NULL && strstr(msg, "\r\nSubject: =?UTF-8?B?") != NULL &&
                strstr(msg, "\r\nContent-Transfer-Encoding: "
                            "quoted-printable\r\n") != NULL &&
                strstr(msg, "\r\n\r\nHallo Zo=C3=AB,\r\n\r\n123456\r\n") !=
                    NULL,
            "non-ASCII: encoded subject, quoted-printable body, code intact");
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
    UNIT_OK(notify_smtp_send(&mc, "ann@example.com", "Subject: x\r\n\r\nx\r\n",
                             err, sizeof(err)) == NOTIFY_TRANSIENT &&
                strstr(err, "smtp:") != NULL,
            "SMTP server down: transient with a reason");
    notify_mail_conf_free(&mc);
    UNIT_OK(notify_sms_send("http://127.0.0.1:1/sms", NULL, "+4915112345678",
                            "hi", err, sizeof(err)) == NOTIFY_TRANSIENT,
            "webhook down: transient");
    curl_global_cleanup();

    return UNIT_DONE();
}
