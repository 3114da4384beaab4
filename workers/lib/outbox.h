/*
 * outbox.h - how the workers publish: through a PostgreSQL outbox.
 *
 * A notification job or identity event (events.h) is not sent to Kafka by
 * the request that makes it: it is written to the outbox table
 * (sql/0008_outbox.sql) on the calling thread's connection (db.h), inside
 * the transaction that makes the change it reports when one is open, on
 * its own (autocommit) otherwise.  It is published when that transaction
 * commits, by the relay (relay.h); a transaction that rolls back takes its
 * rows with it, so nothing is published for it.  A request therefore never
 * waits for Kafka, and answers the same with Kafka slow or away.
 *
 * Writers of one (topic, key) take a transaction-scoped advisory lock
 * before their row gets its id and keep it until they commit or roll back,
 * so that for one key the outbox order (id), which the relay publishes in,
 * is the commit order.  Two transactions that each write rows of two same
 * keys in opposite orders would deadlock (PostgreSQL aborts one): write a
 * transaction's rows in a fixed order, events before jobs.
 *
 *   id_outbox_add(topic, key, msg)  serialises msg (borrowed;
 *       id_outbox_text()) and inserts it.
 *       key may be NULL.  0 written (durable once the transaction
 *       commits), -1 not (logged "outbox.add_failed"; an open transaction
 *       is then aborted and must be rolled back).
 *   id_outbox_text(msg)  the payload of msg as stored and published,
 *       malloc'd (caller frees); NULL on failure.  Pure.
 */
#ifndef ID_OUTBOX_H
#define ID_OUTBOX_H

#include <jansson.h>

#define ID_OUTBOX_CHANNEL "identity_outbox" /* the relay LISTENs on it */

int   id_outbox_add(const char *topic, const char *key, const json_t *msg);
char *id_outbox_text(const json_t *msg);

#endif
