
/*
 * ngx_http_identity_redis_conn_parse(): the Redis address of
 * "identity_revocation_redis" and of "identity_limit_zone ... redis=",
 * read by nginx's ngx_parse_url(), a host name resolved there and then.
 */


#include "unit_ngx.h"

#include "ngx_http_identity_redis_conn.c"


static ngx_int_t unit_parse(ngx_pool_t *pool, const char *text,
    ngx_http_identity_redis_conn_t *rc);
static void unit_refused(ngx_pool_t *pool, const char *text,
    const char *logged);


int
main(void)
{
    ngx_pool_t                      *pool;
    ngx_http_identity_redis_conn_t   rc;

    pool = unit_pool();

    UNIT_INT(unit_parse(pool, "127.0.0.1:6379", &rc), NGX_OK, "ipv4:port");
    UNIT_STR((char *) rc.host, "127.0.0.1", "ipv4: host");
    UNIT_INT(rc.port, 6379, "ipv4: port");
    UNIT_OK(rc.path == NULL, "ipv4: no path");
    UNIT_NGX_STR(&rc.addr, "127.0.0.1:6379", "ipv4: address kept for logs");

    /*
     * a name is resolved now, at configuration time: a worker must never
     * wait for DNS (hiredis would resolve it on every reconnect)
     */

    UNIT_INT(unit_parse(pool, "localhost:65535", &rc), NGX_OK, "name:port");
    UNIT_STR((char *) rc.host, "127.0.0.1", "name: resolved to an address");
    UNIT_INT(rc.port, 65535, "name: highest port");
    UNIT_NGX_STR(&rc.addr, "localhost:65535", "name: kept for logs");

    UNIT_INT(unit_parse(pool, "[::1]:6380", &rc), NGX_OK, "[ipv6]:port");
    UNIT_STR((char *) rc.host, "::1", "ipv6: host without brackets");
    UNIT_INT(rc.port, 6380, "ipv6: port");

    UNIT_INT(unit_parse(pool, "unix:/run/redis/redis.sock", &rc), NGX_OK,
             "unix:/path");
    UNIT_STR((char *) rc.path, "/run/redis/redis.sock", "unix: path");
    UNIT_OK(rc.host == NULL, "unix: no host");
    UNIT_NGX_STR(&rc.addr, "unix:/run/redis/redis.sock",
                 "unix: address kept for logs");

    /* the messages t/module/config.t and ratelimit-config.t look for */

    unit_refused(pool, "localhost",
                 "invalid redis address \"localhost\", expected "
                 "\"host:port\" or \"unix:/path\"");
    unit_refused(pool, "[::1]",
                 "invalid redis address \"[::1]\", expected "
                 "\"host:port\" or \"unix:/path\"");
    unit_refused(pool, "127.0.0.1:0",
                 "invalid port in redis address \"127.0.0.1:0\"");
    unit_refused(pool, "127.0.0.1:65536",
                 "invalid port in redis address \"127.0.0.1:65536\"");
    unit_refused(pool, "127.0.0.1:63x9",
                 "invalid port in redis address \"127.0.0.1:63x9\"");
    unit_refused(pool, "127.0.0.1:",
                 "invalid port in redis address \"127.0.0.1:\"");
    unit_refused(pool, ":6379", "no host in redis address \":6379\"");
    unit_refused(pool, "nonexistent-redis.invalid:6379",
                 "host not found in redis address "
                 "\"nonexistent-redis.invalid:6379\"");
    unit_refused(pool, "127.0.0.1:6379/0",
                 "invalid host in redis address \"127.0.0.1:6379/0\"");
    unit_refused(pool, "[::1:6379",
                 "invalid host in redis address \"[::1:6379\"");
    unit_refused(pool, "[zz::1]:6379",
                 "invalid IPv6 address in redis address \"[zz::1]:6379\"");
    unit_refused(pool, "unix:",
                 "no path in the unix domain socket in redis address "
                 "\"unix:\"");

    ngx_destroy_pool(pool);

    return UNIT_DONE();
}


static ngx_int_t
unit_parse(ngx_pool_t *pool, const char *text,
    ngx_http_identity_redis_conn_t *rc)
{
    ngx_str_t    addr;
    ngx_conf_t  *cf;

    cf = unit_conf(pool, "identity_revocation_redis", text, NULL);

    addr.data = (u_char *) text;
    addr.len = ngx_strlen(text);

    ngx_memzero(rc, sizeof(ngx_http_identity_redis_conn_t));

    return ngx_http_identity_redis_conn_parse(cf, &addr, rc);
}


static void
unit_refused(ngx_pool_t *pool, const char *text, const char *logged)
{
    ngx_http_identity_redis_conn_t  rc;

    unit_logged[0] = '\0';

    UNIT_INT(unit_parse(pool, text, &rc), NGX_ERROR, text);
    UNIT_STR((char *) unit_logged, logged, "  and says why");
}
