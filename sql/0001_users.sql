-- Users: one row per verified account.  Email is unique case-insensitively;
-- the workers store it lower-cased and look it up by lower(email).
CREATE TABLE users (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email              text        NOT NULL CHECK (length(email) <= 254),
    password_hash      text        NOT NULL,
    name               text        CHECK (length(name) <= 200),
    first_name         text        CHECK (length(first_name) <= 100),
    last_name          text        CHECK (length(last_name) <= 100),
    gender             text        CHECK (length(gender) <= 50),
    sex                text        CHECK (length(sex) <= 50),
    occupation         text        CHECK (length(occupation) <= 200),
    phone              text        CHECK (length(phone) <= 32),
    role               text        NOT NULL DEFAULT 'user'
                                   CHECK (role IN ('user', 'admin')),
    email_verified_at  timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_created_at_idx ON users (created_at);

-- updated_at follows every UPDATE without each query having to remember it.
CREATE FUNCTION identity_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER users_touch_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION identity_touch_updated_at();
