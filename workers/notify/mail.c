/*
 * mail.c - the RFC 5322 message and its delivery over SMTP (libcurl).
 *
 * Everything that reaches a header is either validated (addresses, job id)
 * or cleaned of control characters and RFC 2047-encoded (subject, display
 * name), so no job can add a header or a recipient.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "buf.h"
#include "log.h"
#include "notify.h"

#define NOTIFY_QP_LINE 76    /* RFC 2045 6.7 (5) */
#define NOTIFY_7BIT_LINE 998 /* RFC 5322 2.1.1 */
#define NOTIFY_2047_CHUNK 45 /* bytes -> 60 base64 chars; word <= 75 */


char *
notify_header_clean(const char *in)
{
    char       *out, *o;
    const char *p;

    out = malloc(strlen(in) + 1);
    if (out == NULL) {
        return NULL;
    }
    o = out;
    for (p = in; *p != '\0'; p++) {
        unsigned char c = (unsigned char) *p;

        if (c < 0x20 || c == 0x7f || c == ' ') {
            /* one space for any run of blanks and controls, none leading */
            if (o > out && o[-1] != ' ') {
                *o++ = ' ';
            }
            continue;
        }
        *o++ = *p;
    }
    if (o > out && o[-1] == ' ') {
        o--;
    }
    *o = '\0';
    return out;
}


static int
mail_is_plain_ascii(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e) {
            return 0;
        }
        /* looks like an encoded word to a reader: encode it for real */
        if (s[0] == '=' && s[1] == '?') {
            return 0;
        }
    }
    return 1;
}


char *
notify_rfc2047(const char *in)
{
    char           b64[4 * NOTIFY_2047_CHUNK / 3 + 4];
    size_t         n, len, off = 0;
    id_buf_t       b = ID_BUF_INIT;
    unsigned char *u = (unsigned char *) in;

    if (mail_is_plain_ascii(in)) {
        return strdup(in);
    }
    len = strlen(in);
    while (off < len) {
        n = len - off < NOTIFY_2047_CHUNK ? len - off : NOTIFY_2047_CHUNK;
        /* never cut a UTF-8 sequence: back off over continuation bytes */
        while (off + n < len && n > 1 && (u[off + n] & 0xc0) == 0x80) {
            n--;
        }
        EVP_EncodeBlock((unsigned char *) b64, u + off, (int) n);
        if (off > 0) {
            id_buf_adds(&b, "\r\n ");
        }
        id_buf_adds(&b, "=?UTF-8?B?");
        id_buf_adds(&b, b64);
        id_buf_adds(&b, "?=");
        off += n;
    }
    return id_buf_done(&b);
}


char *
notify_qp_encode(const char *in)
{
    char        tok[4];
    size_t      col = 0, tlen;
    id_buf_t    b = ID_BUF_INIT;
    const char *p;

    for (p = in; *p != '\0'; p++) {
        unsigned char c = (unsigned char) *p;

        if (c == '\n') {
            id_buf_adds(&b, "\r\n");
            col = 0;
            continue;
        }
        if (c == '\r') {
            continue; /* line ends are ours: CRLF from '\n' */
        }
        if ((c >= 33 && c <= 126 && c != '=')
            /* a blank is literal unless it ends the line */
            || ((c == ' ' || c == '\t') && p[1] != '\n' && p[1] != '\0' &&
                p[1] != '\r')) {
            tok[0] = (char) c;
            tlen = 1;
        } else {
            snprintf(tok, sizeof(tok), "=%02X", c);
            tlen = 3;
        }
        if (col + tlen > NOTIFY_QP_LINE - 1) { /* room for the soft '=' */
            id_buf_adds(&b, "=\r\n");
            col = 0;
        }
        id_buf_add(&b, tok, tlen);
        col += tlen;
    }
    return id_buf_done(&b);
}


/* 1 if text can go as 7bit: ASCII, no NUL/CR, lines <= 998 octets. */
static int
mail_is_7bit(const char *text)
{
    size_t      col = 0;
    const char *p;

    for (p = text; *p != '\0'; p++) {
        if ((unsigned char) *p >= 0x80 || *p == '\r') {
            return 0;
        }
        col = (*p == '\n') ? 0 : col + 1;
        if (col > NOTIFY_7BIT_LINE) {
            return 0;
        }
    }
    return 1;
}


int
notify_mail_from_parse(notify_mail_conf_t *mc, const char *mail_from, char *err,
                       size_t errlen)
{
    int      rc = -1;
    char    *s, *lt, *gt, *name = NULL, *enc = NULL, *q;
    size_t   n;
    id_buf_t b = ID_BUF_INIT;

    mc->from_addr = NULL;
    mc->from_header = NULL;
    s = notify_header_clean(mail_from);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    lt = strchr(s, '<');
    if (lt == NULL) {
        mc->from_addr = strdup(s);
    } else {
        gt = strchr(lt, '>');
        if (gt == NULL || gt[1] != '\0') {
            snprintf(err, errlen, "want \"address\" or \"Name <address>\"");
            goto done;
        }
        *gt = '\0';
        mc->from_addr = strdup(lt + 1);
        *lt = '\0';
        name = s;
        n = strlen(name);
        while (n > 0 && name[n - 1] == ' ') {
            name[--n] = '\0';
        }
        if (n >= 2 && name[0] == '"' && name[n - 1] == '"') {
            name[n - 1] = '\0';
            name++;
        }
    }
    if (mc->from_addr == NULL || !notify_email_valid(mc->from_addr)) {
        snprintf(err, errlen, "not a valid email address");
        goto done;
    }

    if (name == NULL || name[0] == '\0') {
        id_buf_adds(&b, mc->from_addr);
    } else if (mail_is_plain_ascii(name)) {
        /* RFC 5322 quoted-string if the name has specials */
        if (strpbrk(name, "()<>[]:;@\\,.\"") != NULL) {
            id_buf_adds(&b, "\"");
            for (q = name; *q != '\0'; q++) {
                if (*q == '"' || *q == '\\') {
                    id_buf_adds(&b, "\\");
                }
                id_buf_add(&b, q, 1);
            }
            id_buf_adds(&b, "\"");
        } else {
            id_buf_adds(&b, name);
        }
        id_buf_adds(&b, " <");
        id_buf_adds(&b, mc->from_addr);
        id_buf_adds(&b, ">");
    } else {
        enc = notify_rfc2047(name);
        id_buf_adds(&b, enc != NULL ? enc : "");
        id_buf_adds(&b, " <");
        id_buf_adds(&b, mc->from_addr);
        id_buf_adds(&b, ">");
    }
    mc->from_header = id_buf_done(&b);
    if (mc->from_header == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    mc->from_domain = strchr(mc->from_addr, '@') + 1;
    rc = 0;

done:

    if (rc != 0) {
        free(mc->from_addr);
        mc->from_addr = NULL;
    }
    free(enc);
    free(s);
    return rc;
}


void
notify_mail_conf_free(notify_mail_conf_t *mc)
{
    if (mc == NULL) {
        return;
    }
    free(mc->from_addr);
    free(mc->from_header);
    mc->from_addr = NULL;
    mc->from_header = NULL;
}


char *
notify_mail_build(const notify_mail_conf_t *mc, const notify_job_t *job,
                  const notify_rendered_t *r, time_t now)
{
    int         sevenbit;
    char        date[64], *subject = NULL, *enc = NULL, *body = NULL, *q;
    struct tm   tm;
    id_buf_t    b = ID_BUF_INIT;
    const char *p;

    gmtime_r(&now, &tm);
    /* the C locale's day and month names are the RFC 5322 ones */
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);

    subject = notify_header_clean(r->subject);
    enc = subject != NULL ? notify_rfc2047(subject) : NULL;
    sevenbit = mail_is_7bit(r->text);
    body = sevenbit ? NULL : notify_qp_encode(r->text);
    if (enc == NULL || (!sevenbit && body == NULL)) {
        goto done;
    }

    id_buf_adds(&b, "Date: ");
    id_buf_adds(&b, date);
    id_buf_adds(&b, "\r\nFrom: ");
    id_buf_adds(&b, mc->from_header);
    id_buf_adds(&b, "\r\nTo: ");
    id_buf_adds(&b, job->to); /* a validated addr-spec */
    id_buf_adds(&b, "\r\nSubject: ");
    id_buf_adds(&b, enc);
    /* the same id for every attempt of a job: receivers may dedupe too */
    id_buf_adds(&b, "\r\nMessage-ID: <notify.");
    for (p = job->id; *p != '\0'; p++) {
        id_buf_add(&b, *p == ':' || *p == '.' ? "-" : p, 1);
    }
    id_buf_adds(&b, "@");
    id_buf_adds(&b, mc->from_domain);
    id_buf_adds(&b, ">\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: ");
    id_buf_adds(&b, sevenbit ? "7bit" : "quoted-printable");
    id_buf_adds(&b, "\r\nX-Identity-Job-Id: ");
    id_buf_adds(&b, job->id); /* validated: [A-Za-z0-9._:-] */
    id_buf_adds(&b, "\r\nAuto-Submitted: auto-generated\r\n\r\n");

    if (sevenbit) {
        for (q = r->text; *q != '\0'; q++) {
            id_buf_add(&b, *q == '\n' ? "\r\n" : q, *q == '\n' ? 2 : 1);
        }
    } else {
        id_buf_adds(&b, body);
    }
    if (b.len < 2 || b.buf[b.len - 2] != '\r' || b.buf[b.len - 1] != '\n') {
        id_buf_adds(&b, "\r\n");
    }

done:

    free(subject);
    free(enc);
    free(body);
    if (enc == NULL) {
        free(b.buf);
        return NULL;
    }
    return id_buf_done(&b);
}


int
notify_smtp_loopback(const char *url)
{
    char            host[256];
    size_t          n;
    const char     *p, *end, *at;
    struct in_addr  a4;
    struct in6_addr a6;

    p = strstr(url, "://");
    if (p == NULL) {
        return 0;
    }
    p += 3;
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t) (end - p));
    if (at != NULL) {
        p = at + 1;
    }
    if (*p == '[') {
        p++;
        n = strcspn(p, "]");
    } else {
        n = strcspn(p, ":/?#");
    }
    if (n == 0 || n >= sizeof(host)) {
        return 0;
    }
    memcpy(host, p, n);
    host[n] = '\0';
    if (strcasecmp(host, "localhost") == 0) {
        return 1;
    }
    if (inet_pton(AF_INET, host, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        return IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return 0;
}


int
notify_smtp_policy(notify_mail_conf_t *mc, const char *url, int starttls,
                   char *err, size_t errlen)
{
    mc->url = url;
    mc->starttls = 0;
    if (strncmp(url, "smtps://", 8) == 0) {
        return 0;
    }
    if (strncmp(url, "smtp://", 7) != 0) {
        snprintf(err, errlen,
                 "want smtps://host:port, or smtp://host:port "
                 "with SMTP_STARTTLS=true");
        return -1;
    }
    if (starttls) {
        mc->starttls = 1;
        return 0;
    }
    if (!notify_smtp_loopback(url)) {
        snprintf(err, errlen,
                 "mail to a server on another host must be encrypted: use "
                 "smtps://host:465, or smtp://host:587 with "
                 "SMTP_STARTTLS=true (plain smtp:// only on loopback)");
        return -1;
    }
    return 0;
}


notify_result_t
notify_smtp_classify(int curl_code, long smtp_code)
{
    if (curl_code == CURLE_OK) {
        return NOTIFY_SENT;
    }
    /* authentication problems are ours, not the message's: keep it */
    if (curl_code == CURLE_LOGIN_DENIED || smtp_code == 530 ||
        smtp_code == 534 || smtp_code == 535 || smtp_code == 538) {
        return NOTIFY_TRANSIENT;
    }
    if (smtp_code >= 500 && smtp_code <= 599) {
        return NOTIFY_PERMANENT;
    }
    return NOTIFY_TRANSIENT; /* 4xx, no answer, timeouts, refused */
}


typedef struct {
    const char *data;
    size_t      len;
    size_t      off;
} mail_upload_t;


static size_t
mail_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    size_t         n;
    mail_upload_t *u = arg;

    n = size * nitems;
    if (n > u->len - u->off) {
        n = u->len - u->off;
    }
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}


notify_result_t
notify_smtp_send(const notify_mail_conf_t *mc, const char *to,
                 const char *message, char *err, size_t errlen)
{
    CURL              *curl;
    char               from[300], rcpt[300], ebuf[CURL_ERROR_SIZE];
    long               code = 0;
    CURLcode           cc;
    mail_upload_t      up = { message, strlen(message), 0 };
    notify_result_t    res;
    struct curl_slist *rcpts = NULL;

    curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(err, errlen, "curl_easy_init failed");
        return NOTIFY_TRANSIENT;
    }
    snprintf(from, sizeof(from), "<%s>", mc->from_addr);
    snprintf(rcpt, sizeof(rcpt), "<%s>", to);
    rcpts = curl_slist_append(NULL, rcpt);
    ebuf[0] = '\0';

    curl_easy_setopt(curl, CURLOPT_URL, mc->url);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, mail_read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
    if (mc->username != NULL) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, mc->username);
        curl_easy_setopt(curl, CURLOPT_PASSWORD,
                         mc->password != NULL ? mc->password : "");
    }
    if (mc->starttls || mc->username != NULL) {
        /* never a password or a message in clear: smtp:// must upgrade
         * with STARTTLS, or the transfer fails */
        curl_easy_setopt(curl, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
    }

    cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    res = notify_smtp_classify((int) cc, code);
    if (res != NOTIFY_SENT) {
        snprintf(err, errlen, "smtp: %s (code %ld)",
                 ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc), code);
    }
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(curl);
    return res;
}
