-- The shop's orders (seed 004), served by identity-orders.  An order is
-- placed in one transaction that locks its products (in id order, so two
-- orders never deadlock), takes their stock and copies each product's
-- name and price into its line: a later change to the catalogue never
-- changes an order.  Money is exact (numeric, two places), computed by
-- PostgreSQL.  Widths: a line is at most 1000 x 999999999.99 and an order
-- at most 100 lines (workers/orders/rules.c), so neither can overflow.
CREATE TABLE orders (
    id          uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL once the buyer's account is deleted: the order stays (what was
    -- sold, and the stock it took), no longer tied to a person
    buyer_id    uuid          REFERENCES users (id) ON DELETE SET NULL,
    status      text          NOT NULL DEFAULT 'placed'
                              CHECK (status IN ('placed', 'paid', 'shipped',
                                                'cancelled')),
    total       numeric(16,2) NOT NULL CHECK (total >= 0),
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now()
);

-- a buyer's orders, newest first; and everyone's for admins
CREATE INDEX orders_buyer_created_idx ON orders (buyer_id, created_at DESC, id);
CREATE INDEX orders_created_idx ON orders (created_at DESC, id);

CREATE TRIGGER orders_touch_updated_at
    BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION identity_touch_updated_at();

-- product_id goes NULL when the product is deleted: the line keeps the
-- name and price it was sold under, and a cancel has no stock to restore.
CREATE TABLE order_items (
    order_id    uuid          NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no     integer       NOT NULL CHECK (line_no BETWEEN 1 AND 100),
    product_id  uuid          REFERENCES products (id) ON DELETE SET NULL,
    name        text          NOT NULL,
    unit_price  numeric(11,2) NOT NULL CHECK (unit_price >= 0),
    quantity    integer       NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    line_total  numeric(14,2) NOT NULL CHECK (line_total >= 0),
    PRIMARY KEY (order_id, line_no)
);

CREATE INDEX order_items_product_idx ON order_items (product_id);
