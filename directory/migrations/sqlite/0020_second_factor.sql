-- A staff member's second factor (issue #21): a TOTP authenticator (RFC 6238, HMAC-SHA1, 30 s,
-- 6 digits) and ten single-use recovery codes.

-- At most one authenticator per staff member. The shared secret is sealed under the
-- key-encryption key (AES-256-GCM, bound to the staff id), like signing keys and LAS keys, so a
-- copy of the database holds no usable secret.
CREATE TABLE staff_totp (
    staff_id      TEXT PRIMARY KEY REFERENCES staff(id),
    sealed_secret BLOB NOT NULL,
    kek_id        TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Only a SHA-256 of each recovery code is stored: the codes are 80 random bits, beyond an
-- offline search of a fast hash. used_at makes each code single-use.
CREATE TABLE staff_recovery_codes (
    staff_id   TEXT NOT NULL REFERENCES staff(id),
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (staff_id, code_hash)
);
