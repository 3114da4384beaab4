/*
 * relay_metrics.c - the relay's Prometheus metrics (see relay_metrics.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "db.h"
#include "health.h"
#include "relay_metrics.h"

/* One pass over the partial index outbox_unsent_idx (sql/0008_outbox.sql):
 * it holds only the unsent rows, so the cost is the backlog's, not the
 * table's (sent rows are kept an hour). */
#define ID_RELAY_SQL_BACKLOG                                                   \
    "SELECT count(*) AS unsent, "                                              \
    "coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest "      \
    "FROM outbox WHERE sent_at IS NULL"


int
id_relay_metrics_backlog(id_outbox_backlog_t *b)
{
    PGresult   *res;
    const char *unsent, *oldest;

    b->known = 0;
    b->unsent = 0;
    b->oldest_s = 0;
    res = id_db_exec(ID_RELAY_SQL_BACKLOG, 0, NULL, NULL);
    if (res == NULL) {
        return -1; /* logged by id_db_exec */
    }
    unsent = id_db_value(res, 0, "unsent");
    oldest = id_db_value(res, 0, "oldest");
    if (PQntuples(res) == 1 && unsent != NULL && oldest != NULL) {
        b->unsent = strtoll(unsent, NULL, 10);
        b->oldest_s = strtod(oldest, NULL);
        if (b->oldest_s < 0) {
            b->oldest_s = 0; /* a writer's clock read after ours */
        }
        b->known = 1;
    }
    PQclear(res);
    return b->known ? 0 : -1;
}


char *
id_relay_metrics_render(const id_relay_stats_t    *stats,
                        const id_outbox_backlog_t *backlog)
{
    char     line[256], big[512];
    id_buf_t b = ID_BUF_INIT;

    snprintf(line, sizeof(line),
             "# HELP identity_relay_active 1 while this worker's outbox "
             "relay is the active one.\n"
             "# TYPE identity_relay_active gauge\n"
             "identity_relay_active %d\n",
             stats->active ? 1 : 0);
    id_buf_adds(&b, line);
    snprintf(line, sizeof(line),
             "# HELP identity_relay_published_total Outbox messages this "
             "relay put on Kafka.\n"
             "# TYPE identity_relay_published_total counter\n"
             "identity_relay_published_total %llu\n",
             stats->published);
    id_buf_adds(&b, line);
    snprintf(line, sizeof(line),
             "# HELP identity_relay_publish_failures_total Rounds in which "
             "Kafka did not ack every message (each retried).\n"
             "# TYPE identity_relay_publish_failures_total counter\n"
             "identity_relay_publish_failures_total %llu\n",
             stats->failures);
    id_buf_adds(&b, line);
    if (backlog != NULL && backlog->known) {
        snprintf(line, sizeof(line),
                 "# HELP identity_outbox_unsent Outbox rows not published "
                 "yet.\n"
                 "# TYPE identity_outbox_unsent gauge\n"
                 "identity_outbox_unsent %lld\n",
                 backlog->unsent);
        id_buf_adds(&b, line);
        id_buf_adds(&b, "# HELP identity_outbox_oldest_unsent_seconds Age of "
                        "the oldest outbox row not published yet (0: "
                        "none).\n"
                        "# TYPE identity_outbox_oldest_unsent_seconds "
                        "gauge\n");
        /* %.3f of any double fits in 512 bytes */
        snprintf(big, sizeof(big),
                 "identity_outbox_oldest_unsent_seconds %.3f\n",
                 backlog->oldest_s);
        id_buf_adds(&b, big);
    }
    return id_buf_done(&b);
}


void
id_relay_metrics(id_http_req_t *r)
{
    char               *text;
    id_relay_stats_t    stats;
    id_outbox_backlog_t backlog;
    const id_health_t  *h = r->health;

    id_relay_stats(h != NULL ? h->relay : NULL, &stats);
    id_relay_metrics_backlog(&backlog); /* left out when it fails */
    text = id_relay_metrics_render(&stats, &backlog);
    if (text == NULL) {
        id_http_send_problem(r, 503, "unavailable", "out of memory", NULL);
        return;
    }
    id_http_send_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text);
}
