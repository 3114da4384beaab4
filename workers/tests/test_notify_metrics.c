/*
 * test_notify_metrics.c - notify's Prometheus text (notify/metrics.c):
 * counters by label set, the latency histogram's cumulative buckets, the
 * breaker gauge, and the age of a job from its created_at.
 */
#include <string.h>
#include <time.h>

#include "unit.h"

#include "../notify/metrics.c"


static int
has_line(const char *text, const char *line)
{
    const char *p = text;
    size_t      n = strlen(line);

    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n') {
            return 1;
        }
        p += n;
    }
    return 0;
}


int
main(void)
{
    int              i, ok;
    char            *t;
    const char      *l;
    notify_metrics_t m;
    struct timespec  now;

    notify_metrics_init(&m, "sendgrid", "twilio");
    t = notify_metrics_render(&m);
    UNIT_OK(t != NULL &&
                has_line(t, "# TYPE identity_notify_jobs_total counter") &&
                has_line(t, "# TYPE identity_notify_delivery_seconds "
                            "histogram") &&
                has_line(t, "# TYPE identity_notify_breaker_state gauge"),
            "HELP/TYPE of every family, even before any job");
    UNIT_OK(has_line(t, "identity_notify_breaker_state{provider=\"sendgrid\"} "
                        "0") &&
                has_line(t, "identity_notify_breaker_state{provider=\"twilio\"}"
                            " 0"),
            "a breaker per provider, closed");
    free(t);

    notify_metrics_job(&m, "email", "sendgrid", "sent");
    notify_metrics_job(&m, "email", "sendgrid", "sent");
    notify_metrics_job(&m, "email", "sendgrid", "retry");
    notify_metrics_job(&m, "sms", "twilio", "sent");
    notify_metrics_job(&m, NULL, NULL, "dead_lettered");
    notify_metrics_delivered(&m, NOTIFY_EMAIL, 0.3);
    notify_metrics_delivered(&m, NOTIFY_EMAIL, 7);
    notify_metrics_delivered(&m, NOTIFY_EMAIL, 5000);
    notify_metrics_breaker(&m, NOTIFY_SMS, NOTIFY_BREAKER_OPEN);
    t = notify_metrics_render(&m);
    UNIT_OK(has_line(t, "identity_notify_jobs_total{channel=\"email\","
                        "provider=\"sendgrid\",outcome=\"sent\"} 2"),
            "a counter per label set");
    UNIT_OK(has_line(t, "identity_notify_jobs_total{channel=\"email\","
                        "provider=\"sendgrid\",outcome=\"retry\"} 1") &&
                has_line(t, "identity_notify_jobs_total{channel=\"sms\","
                            "provider=\"twilio\",outcome=\"sent\"} 1"),
            "... others apart");
    UNIT_OK(has_line(t, "identity_notify_jobs_total{channel=\"unknown\","
                        "provider=\"none\",outcome=\"dead_lettered\"} 1"),
            "a poison job without channel or provider");
    UNIT_OK(has_line(t, "identity_notify_delivery_seconds_bucket{channel="
                        "\"email\",le=\"0.25\"} 0") &&
                has_line(t, "identity_notify_delivery_seconds_bucket{channel="
                            "\"email\",le=\"0.5\"} 1") &&
                has_line(t, "identity_notify_delivery_seconds_bucket{channel="
                            "\"email\",le=\"10\"} 2") &&
                has_line(t, "identity_notify_delivery_seconds_bucket{channel="
                            "\"email\",le=\"900\"} 2") &&
                has_line(t, "identity_notify_delivery_seconds_bucket{channel="
                            "\"email\",le=\"+Inf\"} 3"),
            "histogram buckets are cumulative, +Inf counts all");
    UNIT_OK(has_line(t, "identity_notify_delivery_seconds_sum{channel="
                        "\"email\"} 5007.300") &&
                has_line(t, "identity_notify_delivery_seconds_count{channel="
                            "\"email\"} 3") &&
                has_line(t, "identity_notify_delivery_seconds_count{channel="
                            "\"sms\"} 0"),
            "histogram sum and count per channel");
    UNIT_OK(has_line(t, "identity_notify_breaker_state{provider=\"twilio\"} 1"),
            "an open breaker is 1");
    UNIT_OK(strstr(t, "identity_notify_consumer_lag") == NULL,
            "no lag before it is known");
    /* every sample line: name{labels} value, as the text format wants */
    ok = 1;
    for (l = t; *l != '\0'; l = strchr(l, '\n') + 1) {
        if (*l != '#' &&
            strspn(l, "abcdefghijklmnopqrstuvwxyz_") < strlen("identity_")) {
            ok = 0;
        }
    }
    UNIT_OK(ok && t[strlen(t) - 1] == '\n', "only comments and samples, "
                                            "ending in a newline");
    free(t);
    notify_metrics_lag(&m, 1, 42);
    t = notify_metrics_render(&m);
    UNIT_OK(has_line(t, "# TYPE identity_notify_consumer_lag gauge") &&
                has_line(t, "identity_notify_consumer_lag 42"),
            "the consumer lag once known");
    free(t);

    for (i = 0; i < NOTIFY_METRIC_SERIES + 10; i++) {
        static const char *names[] = { "a", "b", "c", "d", "e",
                                       "f", "g", "h", "i" };
        notify_metrics_job(&m, names[i % 9], names[(i / 9) % 9], "sent");
    }
    UNIT_OK(m.d.njobs == NOTIFY_METRIC_SERIES, "series are bounded");
    notify_metrics_destroy(&m);

    now.tv_sec = 1796536800; /* 2026-12-06T06:00:00Z */
    now.tv_nsec = 500000000;
    UNIT_OK(notify_job_age("2026-12-06T05:59:58.250Z", &now) > 2.249 &&
                notify_job_age("2026-12-06T05:59:58.250Z", &now) < 2.251,
            "age of a job with milliseconds");
    UNIT_OK(notify_job_age("2026-12-06T05:59:00Z", &now) > 60.49 &&
                notify_job_age("2026-12-06T05:59:00Z", &now) < 60.51,
            "age of a job without");
    UNIT_OK(notify_job_age("2026-12-06T05:59:00+01:00", &now) < 0 &&
                notify_job_age("yesterday", &now) < 0 &&
                notify_job_age(NULL, &now) < 0,
            "not UTC with Z, or not a time: unknown");
    return UNIT_DONE();
}
