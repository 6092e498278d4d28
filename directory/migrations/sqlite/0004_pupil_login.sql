-- Pupil login: picture passwords, home codes, and an operator's outage notice.

ALTER TABLE schools ADD COLUMN picture_password_enabled BOOLEAN NOT NULL DEFAULT FALSE;

-- The name of the pupil's own picture. One of sixteen: hashing it would hide nothing, so the
-- protection is the throttling of wrong picks, not secrecy at rest.
ALTER TABLE pupils ADD COLUMN picture_secret TEXT;

-- One home code per pupil. The code is looked up by its SHA-256 (it carries 80 random bits);
-- the 6-digit pin is an argon2id hash, checked only after the code matched, and throttled.
CREATE TABLE pupil_home_codes (
    pupil_id   TEXT PRIMARY KEY REFERENCES pupils(id),
    code_hash  TEXT NOT NULL UNIQUE,
    pin_hash   TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
