-- Release decisions: a school may switch pupils' home login off; a party may be allowed more
-- than the default attributes; openpoort keeps sealed secrets (the pairwise-identifier key).

ALTER TABLE schools ADD COLUMN home_login_allowed BOOLEAN NOT NULL DEFAULT TRUE;

-- Attributes beyond the default set that a party may receive (names from broker's catalogue).
CREATE TABLE party_release_attributes (
    party_id   TEXT NOT NULL REFERENCES parties(id),
    attribute  TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (party_id, attribute)
);

-- Named secrets, sealed under the key-encryption key like the signing keys.
CREATE TABLE sealed_secrets (
    name       TEXT PRIMARY KEY,
    sealed     BYTEA NOT NULL,
    kek_id     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX audit_log_by_time ON audit_log (at);
