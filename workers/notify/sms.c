/*
 * sms.c - SMS through a provider webhook: POST {"to","text"} as JSON.
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


/* The provider's answer is not ours to keep. */
static size_t
sms_discard_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    (void) buf;
    (void) arg;
    return size * nitems;
}


notify_result_t
notify_sms_send(const char *url, const char *token, const char *to,
                const char *text, char *err, size_t errlen)
{
    CURL              *curl;
    char              *body = NULL, *auth = NULL, ebuf[CURL_ERROR_SIZE];
    long               status = 0;
    json_t            *o;
    CURLcode           cc;
    notify_result_t    res = NOTIFY_TRANSIENT;
    struct curl_slist *hdrs = NULL;

    o = json_pack("{s:s, s:s}", "to", to, "text", text);
    body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    curl = curl_easy_init();
    if (body == NULL || curl == NULL) {
        snprintf(err, errlen, "sms: out of memory");
        goto done;
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    if (token != NULL && token[0] != '\0') {
        if (asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
            auth = NULL;
            snprintf(err, errlen, "sms: out of memory");
            goto done;
        }
        hdrs = curl_slist_append(hdrs, auth);
    }
    ebuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sms_discard_cb);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");

    cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    res = notify_http_classify((int) cc, status);
    if (res != NOTIFY_SENT) {
        snprintf(err, errlen, "sms webhook: %s (status %ld)",
                 cc != CURLE_OK ? (ebuf[0] ? ebuf : curl_easy_strerror(cc))
                                : "refused",
                 status);
    }

done:

    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    free(auth);
    free(body);
    return res;
}
