/*
 * test_redis_url.c - REDIS_URL parsing (includes redis.c to see the parsed
 * statics; no server is contacted).
 */
#include "../lib/redis.c"

#include "unit.h"


int
main(void)
{
    UNIT_INT(id_redis_init("redis://127.0.0.1:6380/2"), 0, "host:port/db");
    UNIT_STR(id_redis.host, "127.0.0.1", "host");
    UNIT_INT(id_redis.port, 6380, "port");
    UNIT_INT(id_redis.db, 2, "db");

    UNIT_INT(id_redis_init("redis://cache"), 0, "host only");
    UNIT_INT(id_redis.port, 6379, "default port");
    UNIT_INT(id_redis.db, 0, "default db");

    UNIT_INT(id_redis_init("redis://:s3cret@cache:7000"), 0, "password");
    UNIT_STR(id_redis.password, "s3cret", "password parsed");
    UNIT_STR(id_redis.user, "", "no user");
    UNIT_INT(id_redis_init("redis://app:pw@cache:7000/"), 0, "user:password");
    UNIT_STR(id_redis.user, "app", "user parsed");
    UNIT_STR(id_redis.password, "pw", "its password");

    UNIT_INT(id_redis_init("unix:///run/redis/redis.sock"), 0, "unix socket");
    UNIT_STR(id_redis.path, "/run/redis/redis.sock", "socket path");
    UNIT_INT(id_redis_init("unix:///tmp/r.sock?db=3"), 0, "unix with db");
    UNIT_STR(id_redis.path, "/tmp/r.sock", "path without the query");
    UNIT_INT(id_redis.db, 3, "db from the query");

    UNIT_INT(id_redis_init("http://x"), -1, "other scheme refused");
    UNIT_INT(id_redis_init("redis://:6379"), -1, "empty host refused");
    UNIT_INT(id_redis_init("redis://h:99999"), -1, "port out of range");
    UNIT_INT(id_redis_init("redis://h:12x"), -1, "junk port refused");
    UNIT_INT(id_redis_init("redis://h/x"), -1, "junk db refused");
    UNIT_INT(id_redis_init("unix://"), -1, "empty socket path refused");
    UNIT_INT(id_redis_init(NULL), -1, "NULL refused");
    return UNIT_DONE();
}
