-- Staff credentials and one-time links.

-- argon2id PHC string; NULL until the owner sets a password through an activation link.
ALTER TABLE staff ADD COLUMN password_hash TEXT;
ALTER TABLE staff ADD COLUMN password_changed_at BIGINT;
-- Sessions remember the epoch they were created under; a password change or "log out
-- everywhere" bumps it, which voids every session of that person on every node at once.
ALTER TABLE staff ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;

-- Activation and reset links. Only a SHA-256 of the token is stored, so a copy of the database
-- does not hold usable links; used_at makes each link single-use.
CREATE TABLE staff_tokens (
    token_hash TEXT PRIMARY KEY,
    staff_id   TEXT NOT NULL REFERENCES staff(id),
    purpose    TEXT NOT NULL CHECK (purpose IN ('activation', 'reset')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX staff_tokens_by_staff ON staff_tokens (staff_id, purpose);
