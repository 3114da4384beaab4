/*
 * test_redact.c - secrets taken out of URLs and libpq conninfo strings
 * before they reach a log line.
 */
#include <string.h>

#include "redact.h"
#include "unit.h"


static const char *
redact(const char *in)
{
    static char out[512];

    return id_redact(in, out, sizeof(out));
}


int
main(void)
{
    char small[16];

    UNIT_STR(redact("redis://:s3cret@cache:6379/0"),
             "redis://:***@cache:6379/0", "redis password");
    UNIT_STR(redact("redis://app:s3cret@cache:6379"),
             "redis://app:***@cache:6379", "redis user kept, password hidden");
    UNIT_STR(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379",
             "no secret: unchanged");
    UNIT_STR(redact("unix:///run/redis/redis.sock?db=2"),
             "unix:///run/redis/redis.sock?db=***", "query values hidden");
    UNIT_STR(redact("https://sms.example.com/send?key=abc123&from=Id"),
             "https://sms.example.com/send?key=***&from=***",
             "every query value hidden");
    UNIT_STR(redact("https://ak_live_123@sms.example.com/send"),
             "https://***@sms.example.com/send",
             "userinfo without ':' is a key: hidden");
    UNIT_STR(redact("https://user:pa:ss@host/p#tok"),
             "https://user:***@host/p#***", "password with ':', fragment");
    UNIT_STR(redact("https://host/p?key"), "https://host/p?key",
             "a query name without value");
    UNIT_STR(
        redact("postgresql://identity:pw@db:5432/identity?sslmode=require"),
        "postgresql://identity:***@db:5432/identity?sslmode=***",
        "PostgreSQL URI");
    UNIT_STR(redact("https://host/a@b"), "https://host/a@b",
             "'@' in the path is not userinfo");
    UNIT_STR(redact("host=db user=identity password=s3cret dbname=identity"),
             "host=db user=identity password=*** dbname=identity",
             "conninfo password");
    UNIT_STR(redact("host=db password = 'it\\'s a \\\\ secret' port=5432"),
             "host=db password = *** port=5432", "conninfo quoted password");
    UNIT_STR(redact("sslpassword=x host=db"), "sslpassword=*** host=db",
             "conninfo sslpassword");
    UNIT_STR(redact("Identity <no-reply@example.com>"),
             "Identity <no-reply@example.com>", "not a URL: unchanged");
    UNIT_STR(redact(""), "", "empty");

    id_redact("redis://:a-very-long-secret@host:6379", small, sizeof(small));
    UNIT_OK(strstr(small, "a-very") == NULL, "truncated output has no secret");
    UNIT_INT((long long) strlen(small), 15, "truncated to the buffer");
    return UNIT_DONE();
}
