-- revision: 8c7d6e5f4a3b
-- revises: 3f2a9c1b7d4e
-- message: create products table
-- created: 2026-11-24 11:00:00

-- migrate:up
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0)
);

-- migrate:down
DROP TABLE products;
