-- Client certificates a party presents on the partner API's mutual-TLS listener. Existing
-- publisher software sends no other credential, so the certificate alone names the party: the
-- SHA-256 of its DER encoding is the key. At most two per party (checked with the party's row
-- taken), so that a party can put a new certificate in place before the old one is removed.
-- The PEM is kept so that the operator can see what was registered; it holds no secret.
CREATE TABLE party_certificates (
    sha256     TEXT PRIMARY KEY,
    party_id   TEXT NOT NULL REFERENCES parties(id),
    subject    TEXT NOT NULL,
    issuer     TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    not_after  BIGINT NOT NULL,
    pem        TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX party_certificates_by_party ON party_certificates (party_id);
