/*
 * mail.c - the MIME message, built by GMime, and its delivery over SMTP
 * (libcurl).
 *
 * Everything that reaches a header is either validated (addresses, job id,
 * the List-Unsubscribe URIs) or cleaned of control characters here and
 * then encoded by GMime (subject, display names), so no job can add a
 * header or a recipient.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <gmime/gmime.h>

#include "buf.h"
#include "log.h"
#include "notify.h"

#define NOTIFY_UNSUB_MAX 1024 /* bytes of MAIL_LIST_UNSUBSCRIBE */
#define NOTIFY_7BIT_LINE 998  /* RFC 5322 2.1.1 */


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


void
notify_mail_init(void)
{
    g_mime_init();
}


void
notify_mail_shutdown(void)
{
    g_mime_shutdown();
}


int
notify_mail_from_parse(notify_mail_conf_t *mc, const char *mail_from, char *err,
                       size_t errlen)
{
    int    rc = -1;
    char  *s, *lt, *gt, *name = NULL;
    size_t n;

    mc->from_addr = NULL;
    mc->from_name = NULL;
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
    if (name != NULL && !g_utf8_validate(name, -1, NULL)) {
        snprintf(err, errlen, "the name is not UTF-8");
        goto done;
    }
    if (name != NULL && name[0] != '\0') {
        mc->from_name = strdup(name);
        if (mc->from_name == NULL) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
    }
    mc->from_domain = strchr(mc->from_addr, '@') + 1;
    rc = 0;

done:

    if (rc != 0) {
        free(mc->from_addr);
        mc->from_addr = NULL;
    }
    free(s);
    return rc;
}


/* 1 if uri may stand in List-Unsubscribe: mailto: or http(s)://, with no
 * blank, control, '<', '>' or ',' (RFC 2369 angle brackets hold it). */
static int
notify_unsub_uri_valid(const char *uri, size_t n)
{
    size_t i;

    if (!((n > 7 && strncasecmp(uri, "mailto:", 7) == 0) ||
          (n > 8 && strncasecmp(uri, "https://", 8) == 0) ||
          (n > 7 && strncasecmp(uri, "http://", 7) == 0))) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) uri[i];

        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == ',') {
            return 0;
        }
    }
    return 1;
}


int
notify_mail_unsubscribe_parse(notify_mail_conf_t *mc, const char *value,
                              char *err, size_t errlen)
{
    size_t      n;
    id_buf_t    b = ID_BUF_INIT;
    const char *p, *end;

    mc->unsubscribe = NULL;
    if (strlen(value) > NOTIFY_UNSUB_MAX) {
        snprintf(err, errlen, "longer than %d bytes", NOTIFY_UNSUB_MAX);
        return -1;
    }
    for (p = value; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
        p += strspn(p, " ");
        end = p + strcspn(p, ",");
        n = (size_t) (end - p);
        while (n > 0 && p[n - 1] == ' ') {
            n--;
        }
        if (!notify_unsub_uri_valid(p, n)) {
            snprintf(err, errlen,
                     "want mailto: or https:// URIs separated by commas");
            free(b.buf);
            return -1;
        }
        id_buf_adds(&b, b.len > 0 ? ", <" : "<");
        id_buf_add(&b, p, n);
        id_buf_adds(&b, ">");
    }
    if (b.len == 0) {
        snprintf(err, errlen, "no URI in it");
        free(b.buf);
        return -1;
    }
    mc->unsubscribe = id_buf_done(&b);
    if (mc->unsubscribe == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}


void
notify_mail_conf_free(notify_mail_conf_t *mc)
{
    if (mc == NULL) {
        return;
    }
    free(mc->from_addr);
    free(mc->from_name);
    free(mc->unsubscribe);
    mc->from_addr = NULL;
    mc->from_name = NULL;
    mc->unsubscribe = NULL;
}


/* A mailbox of the message's list type, its name (if any) in UTF-8. */
static void
mail_add_mailbox(GMimeMessage *msg, GMimeAddressType type, const char *name,
                 const char *addr)
{
    InternetAddress *ia;

    ia = internet_address_mailbox_new(name, addr);
    internet_address_set_charset(ia, "utf-8");
    internet_address_list_add(g_mime_message_get_addresses(msg, type), ia);
    g_object_unref(ia);
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


/*
 * A text/SUBTYPE part of text (UTF-8, as it is: GMime's set_text would
 * convert it to the smallest charset that fits): 7bit when it is short
 * ASCII lines, else quoted-printable, which keeps a code on its line
 * readable in the raw message (base64 would not).
 */
static GMimeObject *
mail_text_part(const char *subtype, const char *text)
{
    GMimeStream      *st;
    GMimeTextPart    *part;
    GMimeDataWrapper *dw;

    part = g_mime_text_part_new_with_subtype(subtype);
    st = g_mime_stream_mem_new_with_buffer(text, strlen(text));
    dw =
        g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(GMIME_PART(part), dw);
    g_object_unref(dw);
    g_object_unref(st);
    g_mime_text_part_set_charset(part, "utf-8");
    g_mime_part_set_content_encoding(
        GMIME_PART(part), mail_is_7bit(text)
                              ? GMIME_CONTENT_ENCODING_7BIT
                              : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    return GMIME_OBJECT(part);
}


char *
notify_mail_build(const notify_mail_conf_t *mc, const notify_job_t *job,
                  const notify_rendered_t *r, time_t now)
{
    char               *subject = NULL, *to_name = NULL, *out = NULL, *s;
    char               *msgid = NULL, *text = NULL;
    size_t              n;
    id_buf_t            b = ID_BUF_INIT;
    GDateTime          *date;
    GMimeObject        *part;
    const char         *p;
    GMimeMessage       *msg;
    GMimeMultipart     *alt;
    GMimeFormatOptions *fo;

    subject = notify_header_clean(r->subject);
    to_name = r->to_name != NULL ? notify_header_clean(r->to_name) : NULL;
    if (subject == NULL || (r->to_name != NULL && to_name == NULL)) {
        goto done;
    }
    /* the same id for every attempt of a job: receivers may dedupe too */
    id_buf_adds(&b, "notify.");
    for (p = job->id; *p != '\0'; p++) {
        id_buf_add(&b, *p == ':' || *p == '.' ? "-" : p, 1);
    }
    id_buf_adds(&b, "@");
    id_buf_adds(&b, mc->from_domain);
    msgid = id_buf_done(&b);
    /* a text part ends its last line, as a file does */
    n = strlen(r->text);
    text = n > 0 && r->text[n - 1] != '\n' ? g_strconcat(r->text, "\n", NULL)
                                           : g_strdup(r->text);
    if (msgid == NULL || text == NULL) {
        goto done;
    }

    msg = g_mime_message_new(TRUE);
    date = g_date_time_new_from_unix_utc((gint64) now);
    g_mime_message_set_date(msg, date);
    g_date_time_unref(date);
    mail_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, mc->from_name,
                     mc->from_addr);
    mail_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO,
                     to_name != NULL && to_name[0] != '\0' ? to_name : NULL,
                     job->to); /* a validated addr-spec */
    g_mime_message_set_subject(msg, subject, "utf-8");
    g_mime_message_set_message_id(msg, msgid);
    g_mime_object_set_header(GMIME_OBJECT(msg), "X-Identity-Job-Id", job->id,
                             NULL); /* validated: [A-Za-z0-9._:-] */
    g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted",
                             "auto-generated", NULL);
    if (r->list_unsubscribe && mc->unsubscribe != NULL) {
        g_mime_object_set_header(GMIME_OBJECT(msg), "List-Unsubscribe",
                                 mc->unsubscribe, NULL);
    }

    /* plain first: a reader shows the last alternative it can (RFC 2046) */
    alt = g_mime_multipart_new_with_subtype("alternative");
    part = mail_text_part("plain", text);
    g_mime_multipart_add(alt, part);
    g_object_unref(part);
    part = mail_text_part("html", r->html != NULL ? r->html : "");
    g_mime_multipart_add(alt, part);
    g_object_unref(part);
    g_mime_message_set_mime_part(msg, GMIME_OBJECT(alt));
    g_object_unref(alt);

    fo = g_mime_format_options_clone(NULL);
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    s = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
    g_mime_format_options_free(fo);
    g_object_unref(msg);
    out = s != NULL ? strdup(s) : NULL; /* the caller free()s, not g_free */
    g_free(s);

done:

    free(subject);
    free(to_name);
    free(msgid);
    g_free(text);
    return out;
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
notify_smtp_send(notify_conn_t *c, const notify_mail_conf_t *mc, const char *to,
                 const char *message, char *err, size_t errlen)
{
    CURL              *curl;
    char               from[300], rcpt[300], ebuf[CURL_ERROR_SIZE];
    long               code = 0;
    CURLcode           cc;
    mail_upload_t      up = { message, strlen(message), 0 };
    notify_result_t    res;
    struct curl_slist *rcpts = NULL;

    curl = notify_conn_handle(c);
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
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     mc->timeout_ms < 10000 ? mc->timeout_ms : 10000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, mc->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
    if (mc->username != NULL) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, mc->username);
        curl_easy_setopt(curl, CURLOPT_PASSWORD,
                         mc->password != NULL ? mc->password : "");
    }
    if (mc->ca_file != NULL) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, mc->ca_file);
    }
    if (mc->starttls || mc->username != NULL) {
        /* never a password or a message in clear: smtp:// must upgrade
         * with STARTTLS, or the transfer fails */
        curl_easy_setopt(curl, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
    }

    cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    /* the handle (and its SMTP session) outlives this call: no pointer to
     * our locals in it */
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, NULL);
    curl_easy_setopt(curl, CURLOPT_READDATA, NULL);
    res = notify_smtp_classify((int) cc, code);
    if (res != NOTIFY_SENT) {
        snprintf(err, errlen, "smtp: %s (code %ld)",
                 ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc), code);
    }
    curl_slist_free_all(rcpts);
    return res;
}
