-- Audit trail: identity events as consumed from Kafka (identity.events) by
-- the audit consumer.  event_id is the event's "id": storing is idempotent.
CREATE TABLE audit_events (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    type         text        NOT NULL,
    subject      text,
    occurred_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    request_id   text,
    ip           inet,
    data         jsonb       NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX audit_events_subject_idx ON audit_events (subject, occurred_at);
CREATE INDEX audit_events_type_idx ON audit_events (type, occurred_at);
