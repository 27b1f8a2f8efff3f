-- revision: 1a2b3c4d5e6f
-- revises:
-- message: create users table
-- created: 2026-11-24 09:00:00

-- migrate:up
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(255) NOT NULL UNIQUE
);

-- migrate:down
DROP TABLE users;
