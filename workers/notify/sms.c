/*
 * sms.c - SMS through a provider webhook: POST {"to","text"} as JSON; and
 * what an HTTP provider's answer means.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "notify.h"


notify_result_t
notify_http_classify(int curl_code, long status)
{
    if (curl_code != CURLE_OK) {
        return NOTIFY_TRANSIENT; /* refused, timed out, reset */
    }
    if (status >= 200 && status <= 299) {
        return NOTIFY_SENT;
    }
    /* timeouts, throttling and server trouble pass; other 4xx do not */
    if (status == 408 || status == 425 || status == 429 || status >= 500 ||
        status < 200) {
        return NOTIFY_TRANSIENT;
    }
    return NOTIFY_PERMANENT;
}


notify_result_t
notify_sms_send(notify_conn_t *c, const char *url, const char *token,
                const char *to, const char *text, char *err, size_t errlen)
{
    char           *body = NULL;
    json_t         *o;
    notify_post_t   p;
    notify_result_t res;

    o = json_pack("{s:s, s:s}", "to", to, "text", text);
    body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (body == NULL) {
        snprintf(err, errlen, "sms webhook: out of memory");
        return NOTIFY_TRANSIENT;
    }
    memset(&p, 0, sizeof(p));
    p.provider = "sms webhook";
    p.url = url;
    p.content_type = "Content-Type: application/json";
    p.body = body;
    p.bearer = token != NULL && token[0] != '\0' ? token : NULL;
    p.timeout_ms = 30000;
    res = notify_http_post(c, &p, err, errlen);
    free(body);
    return res;
}
