-- revision: 3f2a9c1b7d4e
-- revises: 1a2b3c4d5e6f
-- message: add contact fields to users
-- created: 2026-11-24 10:00:00

-- migrate:up
ALTER TABLE users ADD COLUMN phone VARCHAR(20);
ALTER TABLE users ADD COLUMN address VARCHAR(255);

-- migrate:down
ALTER TABLE users DROP COLUMN address;
ALTER TABLE users DROP COLUMN phone;
