/*
 * conn.c - one libcurl easy handle per provider, kept across jobs.
 *
 * libcurl keeps a finished transfer's connection open in the handle's
 * connection cache: the next job to the same server (SMTP or HTTPS) goes
 * over it, without a new TCP connection, TLS handshake or SMTP AUTH.  A
 * new easy handle per job would throw that cache away each time.
 * curl_easy_reset() clears the options but keeps the live connections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "notify.h"


CURL *
notify_conn_handle(notify_conn_t *c)
{
    if (c->curl == NULL) {
        c->curl = curl_easy_init();
    } else {
        curl_easy_reset(c->curl);
    }
    return c->curl;
}


void
notify_conn_close(notify_conn_t *c)
{
    if (c != NULL && c->curl != NULL) {
        curl_easy_cleanup(c->curl); /* QUIT, close_notify, close */
        c->curl = NULL;
    }
}


/* The provider's answer is not ours to keep (it may echo an address). */
static size_t
conn_discard_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    (void) buf;
    (void) arg;
    return size * nitems;
}


notify_result_t
notify_http_post(notify_conn_t *c, const notify_post_t *p, char *err,
                 size_t errlen)
{
    CURL              *curl;
    char               ebuf[CURL_ERROR_SIZE], *auth = NULL;
    long               status = 0;
    CURLcode           cc;
    notify_result_t    res = NOTIFY_TRANSIENT;
    struct curl_slist *hdrs = NULL;

    curl = notify_conn_handle(c);
    if (curl == NULL) {
        snprintf(err, errlen, "%s: curl_easy_init failed", p->provider);
        return NOTIFY_TRANSIENT;
    }
    hdrs = curl_slist_append(hdrs, p->content_type);
    if (p->bearer != NULL) {
        if (asprintf(&auth, "Authorization: Bearer %s", p->bearer) < 0) {
            auth = NULL;
            snprintf(err, errlen, "%s: out of memory", p->provider);
            goto done;
        }
        hdrs = curl_slist_append(hdrs, auth);
    }
    /* no "Expect: 100-continue" round trip for a small body */
    hdrs = curl_slist_append(hdrs, "Expect:");
    ebuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, p->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) strlen(p->body));
    if (p->user != NULL) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, p->user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD,
                         p->password != NULL ? p->password : "");
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, conn_discard_cb);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     p->timeout_ms < 10000 ? p->timeout_ms : 10000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, p->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);

    cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    /* the handle outlives this call: no pointer to our locals in it */
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    res = notify_http_classify((int) cc, status);
    if (res != NOTIFY_SENT) {
        /* the status and curl's words only: the answer's body may hold
         * the address, and this text goes to logs and the DLQ */
        snprintf(err, errlen, "%s: %s (status %ld)", p->provider,
                 cc != CURLE_OK ? (ebuf[0] ? ebuf : curl_easy_strerror(cc))
                                : "refused",
                 status);
    }

done:

    curl_slist_free_all(hdrs);
    free(auth);
    return res;
}


int
notify_https_policy(const char *url)
{
    if (strncmp(url, "https://", 8) == 0) {
        return 1;
    }
    /* an API key or a message in clear only to this host (tests, a relay) */
    return strncmp(url, "http://", 7) == 0 && notify_smtp_loopback(url);
}
