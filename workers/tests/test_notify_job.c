/*
 * test_notify_job.c - notification job validation, address checks and the
 * retry schedule (notify/job.c).
 */
#include <string.h>

#include "unit.h"

#include "../notify/job.c"


static int
parse_fails(const char *json, const char *want_in_err)
{
    int          rc;
    char         err[512];
    notify_job_t job;

    err[0] = '\0';
    rc = notify_job_parse(json, strlen(json), &job, err, sizeof(err));
    notify_job_free(&job);
    return rc == -1 && strstr(err, want_in_err) != NULL;
}


int
main(void)
{
    int          rc;
    char         err[512], big[NOTIFY_MAX_PAYLOAD + 64];
    char         phone[NOTIFY_PHONE_MAX + 1];
    size_t       i;
    notify_job_t job;

    static const char *good_emails[] = {
        "a@b.co",
        "first.last+tag@example.com",
        "root@localhost",
        "x_y-z@sub.domain-1.example",
        "o'hara@example.ie",
    };
    static const char *bad_emails[] = {
        "",
        "a",
        "@b.c",
        "a@",
        "a..b@c.d",
        ".a@b.c",
        "a.@b.c",
        "a@b..c",
        "a@-b.com",
        "a@b-.com",
        "a b@c.d",
        "a@b.c\r\nBcc: x@y.z",
        "<a@b.c>",
        "a@b@c.d",
        "a@b.c.",
        "\"q\"@b.c",
        "a@[127.0.0.1]",
        "ann@exämple.de",
    };

    const char *ok =
        "{\"id\":\"3f0c1c2e-8a7b-4c4e-9d1a-0b5a6f7e8d9c\","
        "\"type\":\"notification\",\"channel\":\"email\","
        "\"to\":\"ann@example.com\",\"template\":\"signup_otp\","
        "\"data\":{\"otp\":\"123456\",\"name\":\"Ann\",\"ttl_minutes\":10},"
        "\"created_at\":\"2026-11-23T05:00:00Z\",\"extra\":[1,2]}";

    const char *half = "{\"id\":\"job-7\",\"channel\":\"email\"}";
    const char *sms = "{\"id\":\"j1\",\"channel\":\"sms\","
                      "\"to\":\"+1 555 0100\",\"template\":\"welcome\"}";

    rc = notify_job_parse(ok, strlen(ok), &job, err, sizeof(err));
    UNIT_OK(rc == 0, "a complete job parses");
    UNIT_OK(rc == 0 &&
                strcmp(job.id, "3f0c1c2e-8a7b-4c4e-9d1a-0b5a6f7e8d9c") == 0 &&
                job.channel == NOTIFY_EMAIL &&
                strcmp(job.to, "ann@example.com") == 0 &&
                strcmp(job.tpl, "signup_otp") == 0 &&
                json_is_object(job.data) &&
                strcmp(job.created_at, "2026-11-23T05:00:00Z") == 0,
            "its fields are read");
    notify_job_free(&job);
    notify_job_free(&job);
    UNIT_OK(job.root == NULL, "notify_job_free is idempotent");

    rc = notify_job_parse(sms, strlen(sms), &job, err, sizeof(err));
    UNIT_OK(rc == 0 && job.channel == NOTIFY_SMS &&
                strcmp(job.to, "+15550100") == 0 && json_is_object(job.data) &&
                json_object_size(job.data) == 0 && job.created_at == NULL,
            "type, data and created_at are optional");
    notify_job_free(&job);

    UNIT_OK(
        parse_fails("{\"id\":\"x\", \"otp\":\"123456\"", "bad JSON at line 1"),
        "bad JSON is poison");
    rc = notify_job_parse("{\"otp\":\"987654\" oops}", 21, &job, err,
                          sizeof(err));
    UNIT_OK(rc == -1 && strstr(err, "987654") == NULL,
            "the JSON error does not quote the input (an OTP)");
    UNIT_OK(parse_fails("", "empty"), "an empty message is poison");
    UNIT_OK(parse_fails("[1,2]", "not a JSON object"), "an array is poison");
    UNIT_OK(parse_fails("{\"id\":\"a\",\"id\":\"b\"}", "bad JSON"),
            "duplicate keys are poison");
    UNIT_OK(parse_fails("{\"channel\":\"email\"}", "missing field: id"),
            "missing id");
    UNIT_OK(parse_fails("{\"id\":7}", "id is not a string"), "numeric id");
    UNIT_OK(parse_fails("{\"id\":\"a b\"}", "bad id"), "id with a space");
    UNIT_OK(parse_fails("{\"id\":\"x\\r\\nBcc: y\"}", "bad id"),
            "id with CRLF (it goes into a header)");
    UNIT_OK(
        parse_fails("{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaa\"}",
                    "bad id"),
        "id of 65 characters");
    UNIT_OK(parse_fails("{\"id\":\"x\",\"type\":\"event\"}", "type"),
            "another type");
    UNIT_OK(parse_fails("{\"id\":\"x\"}", "missing field: channel"),
            "missing channel");
    UNIT_OK(
        parse_fails("{\"id\":\"x\",\"channel\":\"fax\"}", "unknown channel"),
        "unknown channel");
    UNIT_OK(parse_fails("{\"id\":\"x\",\"channel\":\"email\"}",
                        "missing field: to"),
            "missing to");
    rc = notify_job_parse(half, strlen(half), &job, err, sizeof(err));
    UNIT_OK(rc == -1 && job.id != NULL && strcmp(job.id, "job-7") == 0 &&
                job.root == NULL,
            "a valid id survives a later failure (for the log and DLQ)");
    notify_job_free(&job);
    UNIT_OK(parse_fails("{\"id\":\"x\",\"channel\":\"email\",\"to\":"
                        "\"a@b.c\\r\\nBcc: evil@x.y\"}",
                        "bad email address"),
            "to with CRLF is poison");
    UNIT_OK(parse_fails("{\"id\":\"x\",\"channel\":\"sms\",\"to\":"
                        "\"ann@example.com\"}",
                        "bad phone address"),
            "an email address for sms");
    UNIT_OK(parse_fails("{\"id\":\"x\",\"channel\":\"email\",\"to\":\"a@b.c\"}",
                        "missing field: template"),
            "missing template");
    UNIT_OK(parse_fails("{\"id\":\"x\",\"channel\":\"email\",\"to\":\"a@b.c\","
                        "\"template\":\"welcome\",\"data\":[]}",
                        "data is not an object"),
            "data must be an object");

    memset(big, ' ', sizeof(big) - 1);
    big[0] = '{';
    big[sizeof(big) - 2] = '}';
    big[sizeof(big) - 1] = '\0';
    UNIT_OK(parse_fails(big, "larger than"), "a job over 64 KiB is poison");

    for (i = 0; i < sizeof(good_emails) / sizeof(good_emails[0]); i++) {
        UNIT_OK(notify_email_valid(good_emails[i]), good_emails[i]);
    }
    for (i = 0; i < sizeof(bad_emails) / sizeof(bad_emails[0]); i++) {
        UNIT_OK(!notify_email_valid(bad_emails[i]), "refused email address");
    }
    UNIT_OK(notify_phone_normalize("+4915112345678", phone) == 0 &&
                strcmp(phone, "+4915112345678") == 0,
            "E.164 stays as it is");
    UNIT_OK(notify_phone_normalize("+1 (555) 010-0100", phone) == 0 &&
                strcmp(phone, "+15550100100") == 0,
            "blanks, dashes, parentheses are dropped");
    UNIT_OK(notify_phone_normalize("030.1234", phone) == 0 &&
                strcmp(phone, "0301234") == 0,
            "no +: digits only");
    UNIT_OK(notify_phone_normalize("12345", phone) == -1 &&
                notify_phone_normalize("+1234567890123456", phone) == -1 &&
                notify_phone_normalize("+49 151 x", phone) == -1 &&
                notify_phone_normalize("1+2345678", phone) == -1 &&
                notify_phone_normalize("+", phone) == -1 &&
                notify_phone_normalize("", phone) == -1,
            "not phone numbers: short, 16 digits, letters, inner +, empty");

    UNIT_OK(notify_backoff_ms(1, 1000, 60000) == 1000 &&
                notify_backoff_ms(2, 1000, 60000) == 2000 &&
                notify_backoff_ms(3, 1000, 60000) == 4000 &&
                notify_backoff_ms(6, 1000, 60000) == 32000,
            "backoff doubles from the base");
    UNIT_OK(notify_backoff_ms(7, 1000, 60000) == 60000 &&
                notify_backoff_ms(1000, 1000, 60000) == 60000,
            "backoff stops at the cap (no overflow)");
    UNIT_OK(notify_backoff_ms(0, 1000, 60000) == 1000,
            "attempt 0 counts as the first");
    UNIT_OK(notify_backoff_jitter(1000, 0) == 500 &&
                notify_backoff_jitter(1000, 0.5) == 750 &&
                notify_backoff_jitter(1000, 0.9999) == 999 &&
                notify_backoff_jitter(1001, 0.9999) <= 1001 &&
                notify_backoff_jitter(1000, 2.0) == 500 &&
                notify_backoff_jitter(1000, -1) == 500,
            "equal jitter: half the delay, plus up to the other half");
    {
        int  k;
        long d, lo = 1000000, hi = 0;

        for (k = 0; k < 1000; k++) {
            d = notify_backoff_jitter(notify_backoff_ms(5, 1000, 60000),
                                      (double) random() /
                                          ((double) RAND_MAX + 1));
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        UNIT_OK(lo >= 8000 && hi < 16000 && lo < 9000 && hi > 15000,
                "retries of jobs that failed together spread over "
                "[delay/2, delay)");
    }

    return UNIT_DONE();
}
