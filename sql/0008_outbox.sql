-- The transactional outbox: every notification job and identity event is
-- written here in the same transaction as the change it reports, and a
-- relay (workers/lib/relay.c, one active at a time) publishes it to Kafka
-- afterwards.  A rolled-back transaction leaves no row, so nothing is
-- published for it; a request never waits for Kafka.
--
-- id is the publishing order.  Writers of one (topic, key) are serialised
-- from their insert to their commit (outbox.c), so within a key id order
-- is commit order.  payload is the message exactly as it goes on the
-- topic.  sent_at is set once Kafka acked the message; sent rows are
-- trimmed after a while (relay.c).
CREATE TABLE outbox (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic       text        NOT NULL,
    key         text,
    payload     text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);

-- what the relay reads: the unsent rows in order
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;
-- what the trim deletes
CREATE INDEX outbox_sent_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Wakes the relay (LISTEN identity_outbox) when a transaction that wrote
-- rows commits: NOTIFY is delivered at commit and never for a rollback.
-- Once per statement; PostgreSQL folds equal notifications of a
-- transaction into one.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('identity_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
