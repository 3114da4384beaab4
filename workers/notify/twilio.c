/*
 * twilio.c - SMS through Twilio's Messages API (or one of the same shape):
 * POST To, From, Body as application/x-www-form-urlencoded to
 * {base}/2010-04-01/Accounts/{SID}/Messages.json with HTTP basic auth
 * SID:TOKEN; 201 means queued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "notify.h"


/* Appends name=value, the value percent-encoded (RFC 3986 unreserved
 * characters as they are, which the form format accepts). */
static int
twilio_field(id_buf_t *b, const char *name, const char *value)
{
    char *v;

    v = curl_easy_escape(NULL, value, 0);
    if (v == NULL) {
        return -1;
    }
    if (b->len > 0) {
        id_buf_adds(b, "&");
    }
    id_buf_adds(b, name);
    id_buf_adds(b, "=");
    id_buf_adds(b, v);
    curl_free(v);
    return 0;
}


char *
notify_twilio_body(const char *from, const char *to, const char *text)
{
    id_buf_t b = ID_BUF_INIT;

    if (twilio_field(&b, "To", to) != 0 ||
        twilio_field(&b, "From", from) != 0 ||
        twilio_field(&b, "Body", text) != 0) {
        free(b.buf);
        return NULL;
    }
    return id_buf_done(&b);
}


char *
notify_twilio_url(const char *base, const char *sid)
{
    char  *url;
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/') {
        n--;
    }
    if (asprintf(&url, "%.*s/2010-04-01/Accounts/%s/Messages.json", (int) n,
                 base, sid) < 0) {
        return NULL;
    }
    return url;
}


notify_result_t
notify_twilio_send(notify_conn_t *c, const notify_providers_t *pv,
                   const char *to, const char *text, char *err, size_t errlen)
{
    char           *body;
    notify_post_t   p;
    notify_result_t res;

    body = notify_twilio_body(pv->twilio_from, to, text);
    if (body == NULL) {
        snprintf(err, errlen, "twilio: out of memory");
        return NOTIFY_TRANSIENT;
    }
    memset(&p, 0, sizeof(p));
    p.provider = "twilio";
    p.url = pv->twilio_url;
    p.content_type = "Content-Type: application/x-www-form-urlencoded";
    p.body = body;
    p.user = pv->twilio_sid;
    p.password = pv->twilio_token;
    p.timeout_ms = pv->timeout_ms;
    res = notify_http_post(c, &p, err, errlen);
    free(body);
    return res;
}
