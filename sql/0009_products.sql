-- The shop's catalogue (seed 004), served by identity-products.  price is
-- exact (numeric, two places: 19.90 stays 19.90, never a float); the API
-- takes and gives it as a decimal string.  The bounds are the API's too
-- (workers/products/rules.c), so a row written by hand obeys them as well.
CREATE TABLE products (
    id           uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text          NOT NULL
                               CHECK (char_length(name) BETWEEN 1 AND 200),
    description  text          NOT NULL DEFAULT ''
                               CHECK (char_length(description) <= 5000),
    price        numeric(11,2) NOT NULL CHECK (price >= 0),
    stock        integer       NOT NULL CHECK (stock BETWEEN 0 AND 1000000),
    created_at   timestamptz   NOT NULL DEFAULT now(),
    updated_at   timestamptz   NOT NULL DEFAULT now()
);

-- the list's order (oldest first, then id)
CREATE INDEX products_created_at_idx ON products (created_at, id);

CREATE TRIGGER products_touch_updated_at
    BEFORE UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION identity_touch_updated_at();
