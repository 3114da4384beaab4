/*
 * test_relay_metrics.c - the relay's Prometheus text (lib/relay_metrics.c):
 * every family with its HELP and TYPE, the counters' values, the outbox
 * gauges only when PostgreSQL answered, and a relay that is not there.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "relay_metrics.h"


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
    char               *t;
    id_relay_stats_t    s;
    id_outbox_backlog_t b;

    s.active = 1;
    s.published = 12345678901ULL;
    s.failures = 3;
    b.known = 1;
    b.unsent = 42;
    b.oldest_s = 7.25;
    t = id_relay_metrics_render(&s, &b);
    UNIT_OK(t != NULL, "rendered");
    UNIT_OK(has_line(t, "# TYPE identity_relay_active gauge") &&
                has_line(t, "identity_relay_active 1"),
            "the active relay: 1, a gauge");
    UNIT_OK(has_line(t, "# TYPE identity_relay_published_total counter") &&
                has_line(t, "identity_relay_published_total 12345678901"),
            "published: a counter past 32 bits");
    UNIT_OK(has_line(t, "# TYPE identity_relay_publish_failures_total "
                        "counter") &&
                has_line(t, "identity_relay_publish_failures_total 3"),
            "failed rounds: a counter");
    UNIT_OK(has_line(t, "# TYPE identity_outbox_unsent gauge") &&
                has_line(t, "identity_outbox_unsent 42"),
            "the backlog: a gauge");
    UNIT_OK(has_line(t, "# TYPE identity_outbox_oldest_unsent_seconds "
                        "gauge") &&
                has_line(t, "identity_outbox_oldest_unsent_seconds 7.250"),
            "the oldest row's age: a gauge in seconds");
    UNIT_OK(strstr(t, "# HELP identity_relay_active ") != NULL &&
                strstr(t, "# HELP identity_outbox_unsent ") != NULL,
            "with HELP lines");
    UNIT_OK(t[strlen(t) - 1] == '\n', "the text ends with a line feed");
    free(t);

    b.known = 0;
    t = id_relay_metrics_render(&s, &b);
    UNIT_OK(t != NULL && strstr(t, "identity_outbox_") == NULL &&
                has_line(t, "identity_relay_active 1"),
            "PostgreSQL did not answer: no outbox gauges, the relay's kept");
    free(t);

    id_relay_stats(NULL, &s);
    t = id_relay_metrics_render(&s, NULL);
    UNIT_OK(t != NULL && has_line(t, "identity_relay_active 0") &&
                has_line(t, "identity_relay_published_total 0") &&
                has_line(t, "identity_relay_publish_failures_total 0"),
            "no relay: zeros");
    free(t);

    return UNIT_DONE();
}
