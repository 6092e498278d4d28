-- SAML service providers of parties. As with OIDC clients, the registration is the metadata
-- crate's JSON (no migration per new field); the metadata document is kept as last loaded, so
-- that an operator can see what a registration came from.
CREATE TABLE saml_service_providers (
    entity_id     TEXT PRIMARY KEY,
    party_id      TEXT NOT NULL REFERENCES parties(id),
    registration  TEXT NOT NULL,
    metadata_xml  TEXT NOT NULL,
    metadata_url  TEXT,
    refreshed_at  BIGINT NOT NULL,
    refresh_error TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX saml_service_providers_by_party ON saml_service_providers (party_id);
