/*
 * test_http.c - the HTTP layer end to end on a unix socket, without any
 * database: routing (404/405 + Allow, {id} segments at the end or in the
 * middle), body limit (413 with and without Content-Length), JSON checks
 * (415, 400), bearer identity (401), X-Request-Id echo/generation, handler
 * that forgets to answer (500).
 */
#include <stdlib.h>
#include <unistd.h>

#include <curl/curl.h>

#include "crypto.h"
#include "http.h"
#include "unit.h"

/* per process: two test runs (SAN and not) may overlap */
static char sock_path[108];

typedef struct {
    long   status;
    char   body[4096];
    size_t len;
    char   headers[4096];
    size_t hlen;
} reply_t;


static void
h_echo(id_http_req_t *r)
{
    json_t *o = json_object();

    json_object_set(o, "got", r->json);
    id_http_send_json(r, 200, o);
}


static void
h_item(id_http_req_t *r)
{
    id_http_send_json(r, 200, json_pack("{s:s}", "id", r->param));
}


static void
h_item_part(id_http_req_t *r)
{
    id_http_send_json(r, 200,
                      json_pack("{s:s, s:s}", "id", r->param, "part", "role"));
}


static void
h_me(id_http_req_t *r)
{
    id_http_send_json(
        r, 200, json_pack("{s:s, s:s?}", "sub", r->id.sub, "role", r->id.role));
}


static void
h_forgetful(id_http_req_t *r)
{
    (void) r;
}


static const id_http_route_t routes[] = {
    { "POST", "/echo", ID_HTTP_JSON, h_echo },
    { "GET", "/items/{id}", 0, h_item },
    { "DELETE", "/items/{id}", 0, h_item },
    { "PATCH", "/items/{id}/role", 0, h_item_part },
    { "GET", "/me", ID_HTTP_BEARER, h_me },
    { "GET", "/forgetful", 0, h_forgetful },
};


static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    reply_t *rep = arg;
    size_t   len = size * n;

    if (rep->len + len < sizeof(rep->body)) {
        memcpy(rep->body + rep->len, p, len);
        rep->len += len;
        rep->body[rep->len] = '\0';
    }
    return len;
}


static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    reply_t *rep = arg;
    size_t   len = size * n;

    if (rep->hlen + len < sizeof(rep->headers)) {
        memcpy(rep->headers + rep->hlen, p, len);
        rep->hlen += len;
        rep->headers[rep->hlen] = '\0';
    }
    return len;
}


static void
request(const char *method, const char *path, const char *body, size_t body_len,
        const char **headers, reply_t *rep)
{
    char               url[256];
    CURL              *c;
    struct curl_slist *hl = NULL;

    memset(rep, 0, sizeof(*rep));
    c = curl_easy_init();
    snprintf(url, sizeof(url), "http://localhost%s", path);
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock_path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, rep);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, rep);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) body_len);
    }
    for (; headers != NULL && *headers != NULL; headers++) {
        hl = curl_slist_append(hl, *headers);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rep->status);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}


static int
has(const reply_t *rep, const char *s)
{
    return strstr(rep->body, s) != NULL || strstr(rep->headers, s) != NULL;
}


/* X-Identity-Signature: what is signed, and what makes a signature bad */
static void
sign_checks(void)
{
    char                 hdr[128], *msg;
    size_t               i;
    unsigned char        sum[ID_SHA256_LEN];
    const unsigned char *key =
        (const unsigned char *) "0123456789abcdef0123456789abcdef";
    const char *v[7] = { "127.0.0.1", "u-1", "user", NULL, "s", "j", "99" };
    const char *role_admin[7] = { "127.0.0.1", "u-1", "admin", NULL,
                                  "s",         "j",   "99" };

    msg = id_http_sign_message("1000", "GET", "/me", v);
    UNIT_STR(msg,
             "identity-v1\n1000\nGET\n/me\n127.0.0.1\nu-1\nuser\n\ns\nj\n99",
             "the signed text: one line per value, absent = empty");
    id_crypto_hmac_sha256(key, 32, msg, strlen(msg), sum);
    free(msg);
    i = (size_t) snprintf(hdr, sizeof(hdr), "t=1000, v1=");
    for (size_t k = 0; k < ID_SHA256_LEN; k++, i += 2) {
        snprintf(hdr + i, 3, "%02x", sum[k]);
    }
    UNIT_INT(id_http_sign_check(hdr, key, 32, 30, 1000, "GET", "/me", v), 1,
             "a good signature");
    UNIT_INT(id_http_sign_check(hdr, key, 32, 30, 1030, "GET", "/me", v), 1,
             "still good at the end of the window");
    UNIT_INT(id_http_sign_check(hdr, key, 32, 30, 1031, "GET", "/me", v), 0,
             "too old");
    UNIT_INT(id_http_sign_check(hdr, key, 32, 30, 969, "GET", "/me", v), 0,
             "too far ahead");
    UNIT_INT(id_http_sign_check(hdr, key, 32, 30, 1000, "POST", "/me", v), 0,
             "another method");
    UNIT_INT(id_http_sign_check(hdr, key, 32, 30, 1000, "GET", "/you", v), 0,
             "another path");
    UNIT_INT(
        id_http_sign_check(hdr, key, 32, 30, 1000, "GET", "/me", role_admin), 0,
        "another role");
    UNIT_INT(id_http_sign_check(hdr,
                                (const unsigned char *) "another key of "
                                                        "32 bytes, really",
                                32, 30, 1000, "GET", "/me", v),
             0, "another key");
    UNIT_INT(id_http_sign_check(NULL, key, 32, 30, 1000, "GET", "/me", v), 0,
             "no signature");
    UNIT_INT(id_http_sign_check(hdr, NULL, 0, 30, 1000, "GET", "/me", v), 0,
             "no key: nothing is good");
    hdr[strlen(hdr) - 1] = hdr[strlen(hdr) - 1] == '0' ? '1' : '0';
    UNIT_INT(id_http_sign_check(hdr, key, 32, 30, 1000, "GET", "/me", v), 0,
             "one hex digit changed");
    UNIT_INT(id_http_sign_check("t=1000, v1=ABC", key, 32, 30, 1000, "GET",
                                "/me", v),
             0, "malformed");
    UNIT_INT(id_http_sign_check("t=, v1=", key, 32, 30, 1000, "GET", "/me", v),
             0, "empty parts");
}


int
main(void)
{
    char             *big, listen_on[128];
    reply_t           rep;
    id_http_opts_t    opts;
    id_http_server_t *s;
    const char       *json_h[] = { "Content-Type: application/json", NULL };
    const char       *chunked_h[] = { "Content-Type: application/json",
                                      "Transfer-Encoding: chunked", NULL };
    const char       *rid_h[] = { "X-Request-Id: test-rid-1", NULL };
    const char       *bad_rid_h[] = { "X-Request-Id: <bad id>", NULL };
    const char *id_h[] = { "X-Identity-Sub: u-1", "X-Identity-Role: admin",
                           NULL };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    id_http_block_signals();
    memset(&opts, 0, sizeof(opts));
    snprintf(sock_path, sizeof(sock_path), "/tmp/identity-test-http.%ld.sock",
             (long) getpid());
    snprintf(listen_on, sizeof(listen_on), "unix:%s", sock_path);
    opts.listen = listen_on;
    opts.threads = 2;
    opts.max_body = 1024;
    opts.peer_uids[0] = geteuid(); /* this process is the "gateway" */
    opts.npeer_uids = 1;
    opts.routes = routes;
    opts.nroutes = sizeof(routes) / sizeof(routes[0]);
    s = id_http_start(&opts);
    if (!UNIT_OK(s != NULL, "server starts on a unix socket")) {
        return unit_done();
    }
    UNIT_OK(access(sock_path, F_OK) == 0, "socket file exists");

    request("POST", "/echo", "{\"a\":1}", 7, json_h, &rep);
    UNIT_INT(rep.status, 200, "JSON route answers");
    UNIT_STR(rep.body, "{\"got\":{\"a\":1}}", "handler saw the parsed body");
    UNIT_OK(has(&rep, "X-Request-Id: "), "a request id is always echoed");
    UNIT_OK(has(&rep, "Content-Type: application/json"), "JSON content type");

    request("POST", "/echo", "{\"a\":", 5, json_h, &rep);
    UNIT_INT(rep.status, 400, "bad JSON is 400");
    UNIT_OK(has(&rep, "\"code\":\"invalid_json\"") &&
                has(&rep, "application/problem+json"),
            "as an invalid_json problem");
    request("POST", "/echo", "[]", 2, json_h, &rep);
    UNIT_INT(rep.status, 400, "a JSON array is not an object: 400");
    request("POST", "/echo", "a=1", 3, NULL, &rep);
    UNIT_INT(rep.status, 415, "form body on a JSON route is 415");
    request("POST", "/echo", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 200, "empty body is an empty object");
    UNIT_STR(rep.body, "{\"got\":{}}", "empty object handed over");

    big = malloc(5000);
    memset(big, ' ', 5000);
    request("POST", "/echo", big, 5000, json_h, &rep);
    UNIT_INT(rep.status, 413, "body over the limit is 413");
    UNIT_OK(has(&rep, "payload_too_large"), "payload_too_large code");
    request("POST", "/echo", big, 5000, chunked_h, &rep);
    UNIT_INT(rep.status, 413, "chunked body over the limit is 413");
    free(big);

    request("GET", "/items/abc", NULL, 0, NULL, &rep);
    UNIT_STR(rep.body, "{\"id\":\"abc\"}", "{id} segment captured");
    request("GET", "/items/abc/def", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 404, "{id} matches one segment only");
    request("GET", "/items/", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 404, "{id} never matches empty");
    request("PATCH", "/items/abc/role", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 200, "a {id} segment in the middle of a path");
    UNIT_STR(rep.body, "{\"id\":\"abc\",\"part\":\"role\"}",
             "... captured without the rest of the path");
    request("PATCH", "/items/abc/roles", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 404, "the part after {id} must match exactly");
    request("PATCH", "/items/abc/role/x", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 404, "... and nothing may follow it");
    request("PATCH", "/items//role", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 404, "a middle {id} never matches empty");
    request("PATCH", "/items/a/b/role", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 404, "a middle {id} matches one segment only");
    request("GET", "/items/abc/role", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 405, "a middle {id} route, another method: 405");
    UNIT_OK(has(&rep, "Allow: PATCH"), "Allow names its method");
    request("PATCH", "/items/abc", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 405, "the shorter path is another route");
    request("GET", "/nothing", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 404, "unknown path 404");
    UNIT_OK(has(&rep, "\"code\":\"not_found\""), "not_found problem");
    request("PUT", "/items/abc", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 405, "known path, other method: 405");
    UNIT_OK(has(&rep, "Allow: GET, DELETE"), "Allow lists the methods");

    request("GET", "/me", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 401, "bearer route without identity: 401");
    UNIT_OK(has(&rep, "WWW-Authenticate: Bearer"), "WWW-Authenticate sent");
    request("GET", "/me", NULL, 0, id_h, &rep);
    UNIT_STR(rep.body, "{\"sub\":\"u-1\",\"role\":\"admin\"}",
             "identity headers reach the handler");

    request("GET", "/items/x", NULL, 0, rid_h, &rep);
    UNIT_OK(has(&rep, "X-Request-Id: test-rid-1"), "client request id echoed");
    request("GET", "/items/x", NULL, 0, bad_rid_h, &rep);
    UNIT_OK(!has(&rep, "<bad id>") && has(&rep, "X-Request-Id: "),
            "unsafe request id replaced");

    request("GET", "/forgetful", NULL, 0, NULL, &rep);
    UNIT_INT(rep.status, 500, "a handler that never answers gives 500");

    id_http_stop(s);
    UNIT_OK(access(sock_path, F_OK) != 0, "socket removed on stop");
    curl_global_cleanup();

    sign_checks();
    return unit_done();
}
