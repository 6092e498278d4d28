-- A staff member's passkeys (WebAuthn, issue #21): several per person, each with a name the
-- person chose. `passkey` is the credential as webauthn-rs serialises it (JSON: the credential
-- id, the public key, the signature counter and backup flags). It holds no secret: the private
-- key never leaves the authenticator, so a copy of the database signs nobody in.
CREATE TABLE staff_passkeys (
    id            TEXT PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    -- base64url (no padding) of the credential id: one credential belongs to one account.
    credential_id TEXT NOT NULL UNIQUE,
    passkey       TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);

CREATE INDEX staff_passkeys_staff ON staff_passkeys (staff_id);
