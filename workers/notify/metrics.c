/*
 * metrics.c - notify's Prometheus metrics, served on GET /metrics of
 * LISTEN (text exposition format 0.0.4):
 *
 *   identity_notify_jobs_total{channel,provider,outcome}   counter
 *   identity_notify_delivery_seconds{channel}              histogram, from
 *       the job's created_at to the provider's acceptance
 *   identity_notify_breaker_state{provider}                gauge, 0 closed,
 *       1 open, 2 half-open
 *   identity_notify_consumer_lag                           gauge, messages
 *       of the assigned partitions not yet handled (once known)
 *
 * The consumer loop writes, the HTTP threads read: one mutex, held only to
 * add a number or to copy them out.  Label values are the worker's own
 * words (channel, provider and outcome names), never a job's data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "notify.h"

/* seconds; a code mail should arrive within seconds, a held job may take
 * the breaker's cool-downs */
static const double notify_lat_le[NOTIFY_LAT_BUCKETS] = {
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900
};

static const char *notify_channels[2] = { "email", "sms" };


void
notify_metrics_init(notify_metrics_t *m, const char *mail_provider,
                    const char *sms_provider)
{
    memset(&m->d, 0, sizeof(m->d));
    pthread_mutex_init(&m->lock, NULL);
    m->d.provider[NOTIFY_EMAIL] = mail_provider;
    m->d.provider[NOTIFY_SMS] = sms_provider;
}


void
notify_metrics_destroy(notify_metrics_t *m)
{
    pthread_mutex_destroy(&m->lock);
}


void
notify_metrics_job(notify_metrics_t *m, const char *channel,
                   const char *provider, const char *outcome)
{
    size_t i;

    channel = channel != NULL ? channel : "unknown"; /* a poison job */
    provider = provider != NULL ? provider : "none";
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->d.njobs; i++) {
        if (strcmp(m->d.jobs[i].channel, channel) == 0 &&
            strcmp(m->d.jobs[i].provider, provider) == 0 &&
            strcmp(m->d.jobs[i].outcome, outcome) == 0) {
            break;
        }
    }
    if (i == m->d.njobs && m->d.njobs < NOTIFY_METRIC_SERIES) {
        /* the names are the worker's static strings: kept as pointers */
        m->d.jobs[i].channel = channel;
        m->d.jobs[i].provider = provider;
        m->d.jobs[i].outcome = outcome;
        m->d.njobs++;
    }
    if (i < m->d.njobs) {
        m->d.jobs[i].n++;
    }
    pthread_mutex_unlock(&m->lock);
}


void
notify_metrics_delivered(notify_metrics_t *m, notify_channel_t channel,
                         double seconds)
{
    int i;

    if (seconds < 0) {
        seconds = 0; /* clocks of two hosts */
    }
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < NOTIFY_LAT_BUCKETS; i++) {
        if (seconds <= notify_lat_le[i]) {
            m->d.lat_bucket[channel][i]++;
            break;
        }
    }
    m->d.lat_count[channel]++;
    m->d.lat_sum[channel] += seconds;
    pthread_mutex_unlock(&m->lock);
}


void
notify_metrics_breaker(notify_metrics_t *m, notify_channel_t channel, int state)
{
    pthread_mutex_lock(&m->lock);
    m->d.breaker[channel] = state;
    pthread_mutex_unlock(&m->lock);
}


void
notify_metrics_lag(notify_metrics_t *m, int known, long long lag)
{
    pthread_mutex_lock(&m->lock);
    m->d.lag_known = known;
    m->d.lag = lag;
    pthread_mutex_unlock(&m->lock);
}


double
notify_job_age(const char *created_at, const struct timespec *now)
{
    int         ms = 0, digits = 0;
    char       *end;
    time_t      t;
    struct tm   tm;
    const char *p;

    if (created_at == NULL) {
        return -1;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(created_at, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL) {
        return -1;
    }
    p = end;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (digits++ < 3) {
                ms = ms * 10 + (*p - '0');
            }
        }
        while (digits < 3) {
            ms *= 10;
            digits++;
        }
    }
    if (strcmp(p, "Z") != 0) {
        return -1; /* what the publishers write: UTC with a Z */
    }
    t = timegm(&tm);
    return (double) (now->tv_sec - t) + (double) now->tv_nsec / 1e9 -
           (double) ms / 1000;
}


char *
notify_metrics_render(notify_metrics_t *m)
{
    int                   c, i;
    char                  line[256];
    size_t                k;
    id_buf_t              b = ID_BUF_INIT;
    notify_metrics_data_t s;

    /* a copy, so the lock is not held while the text is written */
    pthread_mutex_lock(&m->lock);
    s = m->d;
    pthread_mutex_unlock(&m->lock);

    id_buf_adds(&b, "# HELP identity_notify_jobs_total Notification jobs "
                    "handled, by channel, provider and outcome.\n"
                    "# TYPE identity_notify_jobs_total counter\n");
    for (k = 0; k < s.njobs; k++) {
        snprintf(line, sizeof(line),
                 "identity_notify_jobs_total{channel=\"%s\",provider=\"%s\","
                 "outcome=\"%s\"} %llu\n",
                 s.jobs[k].channel, s.jobs[k].provider, s.jobs[k].outcome,
                 s.jobs[k].n);
        id_buf_adds(&b, line);
    }

    id_buf_adds(&b, "# HELP identity_notify_delivery_seconds Seconds from a "
                    "job's created_at to its acceptance by the provider.\n"
                    "# TYPE identity_notify_delivery_seconds histogram\n");
    for (c = 0; c < 2; c++) {
        unsigned long long cum = 0;

        for (i = 0; i < NOTIFY_LAT_BUCKETS; i++) {
            cum += s.lat_bucket[c][i];
            snprintf(line, sizeof(line),
                     "identity_notify_delivery_seconds_bucket{channel=\"%s\","
                     "le=\"%g\"} %llu\n",
                     notify_channels[c], notify_lat_le[i], cum);
            id_buf_adds(&b, line);
        }
        snprintf(line, sizeof(line),
                 "identity_notify_delivery_seconds_bucket{channel=\"%s\","
                 "le=\"+Inf\"} %llu\n"
                 "identity_notify_delivery_seconds_sum{channel=\"%s\"} %.3f\n"
                 "identity_notify_delivery_seconds_count{channel=\"%s\"} "
                 "%llu\n",
                 notify_channels[c], s.lat_count[c], notify_channels[c],
                 s.lat_sum[c], notify_channels[c], s.lat_count[c]);
        id_buf_adds(&b, line);
    }

    id_buf_adds(&b, "# HELP identity_notify_breaker_state A provider's "
                    "circuit breaker: 0 closed, 1 open, 2 half-open.\n"
                    "# TYPE identity_notify_breaker_state gauge\n");
    for (c = 0; c < 2; c++) {
        snprintf(line, sizeof(line),
                 "identity_notify_breaker_state{provider=\"%s\"} %d\n",
                 s.provider[c] != NULL ? s.provider[c] : "none",
                 s.breaker[c] == NOTIFY_BREAKER_OPEN        ? 1
                 : s.breaker[c] == NOTIFY_BREAKER_HALF_OPEN ? 2
                                                            : 0);
        id_buf_adds(&b, line);
    }
    if (s.lag_known) {
        snprintf(line, sizeof(line),
                 "# HELP identity_notify_consumer_lag Jobs on the worker's "
                 "partitions not handled yet.\n"
                 "# TYPE identity_notify_consumer_lag gauge\n"
                 "identity_notify_consumer_lag %lld\n",
                 s.lag);
        id_buf_adds(&b, line);
    }
    return id_buf_done(&b);
}


void
notify_api_metrics(id_http_req_t *r)
{
    char               *text;
    const notify_api_t *api = r->app;

    text = notify_metrics_render(api->metrics);
    if (text == NULL) {
        id_http_send_problem(r, 503, "unavailable", "out of memory", NULL);
        return;
    }
    id_http_send_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text);
}
