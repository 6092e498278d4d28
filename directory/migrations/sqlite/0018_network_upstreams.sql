-- How a network provider (netwerkaanbieder) vouches for its users to openpoort: at most one
-- upstream per party, over SAML (openpoort is its SP) or OpenID Connect (openpoort is its
-- relying party). `issuer` is the IdP's entityID or the OIDC issuer, unique so that an incoming
-- assertion's Issuer names exactly one provider. `settings` is the idp's JSON (matching rule,
-- attribute names, signing policy, OIDC client id and authentication method), as with SP
-- registrations, so that a new setting needs no migration. The SAML metadata is kept as last
-- verified; the OIDC client secret sits in a column of its own so that no listing or audit
-- record that copies `settings` can carry it.
CREATE TABLE network_upstreams (
    party_id      TEXT PRIMARY KEY REFERENCES parties(id),
    protocol      TEXT NOT NULL CHECK (protocol IN ('saml', 'oidc')),
    issuer        TEXT NOT NULL UNIQUE,
    settings      TEXT NOT NULL,
    metadata_xml  TEXT,
    metadata_url  TEXT,
    client_secret TEXT,
    refreshed_at  BIGINT NOT NULL,
    refresh_error TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
