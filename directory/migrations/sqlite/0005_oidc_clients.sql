-- OpenID Connect clients of parties. The registration itself is the metadata crate's JSON, so
-- that a new registration field needs no migration; the secret is a SHA-256 of a 256-bit random
-- value (a machine secret, not a password: a slow hash would only slow every token request).
CREATE TABLE oidc_clients (
    client_id    TEXT PRIMARY KEY,
    party_id     TEXT NOT NULL REFERENCES parties(id),
    registration TEXT NOT NULL,
    secret_hash  TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX oidc_clients_by_party ON oidc_clients (party_id);
