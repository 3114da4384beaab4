-- Sessions: one row per refresh token.  A login starts a family (family_id =
-- the first row's id = the "sid" claim of every access token of the login);
-- each refresh inserts the next row and points the old one at it
-- (replaced_by).  Presenting a replaced token again is reuse: the whole
-- family is revoked.  Only SHA-256 of the refresh token is stored.
CREATE TABLE sessions (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid        NOT NULL REFERENCES users (id)
                                   ON DELETE CASCADE,
    family_id          uuid        NOT NULL,
    refresh_token_hash text        NOT NULL UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    last_used_at       timestamptz,
    revoked_at         timestamptz,
    replaced_by        uuid        REFERENCES sessions (id) ON DELETE SET NULL,
    user_agent         text        CHECK (length(user_agent) <= 512),
    ip                 inet
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_family_id_idx ON sessions (family_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
