-- The register's version, for the read cache (directory/src/cache.rs): every change to a table
-- that the cache keeps reads of counts it up, in the same transaction as the change. A server
-- reads it at most every quarter second, so a change made by any other process (the operator's
-- command line, a hand-made fix) reaches the cache within that time. The audit log, keys and
-- credentials are not cached and do not count.
CREATE TABLE register_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO register_version (id, version) VALUES (1, 0);

CREATE TRIGGER schools_insert_counts AFTER INSERT ON schools
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER schools_update_counts AFTER UPDATE ON schools
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER schools_delete_counts AFTER DELETE ON schools
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER school_ip_ranges_insert_counts AFTER INSERT ON school_ip_ranges
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER school_ip_ranges_update_counts AFTER UPDATE ON school_ip_ranges
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER school_ip_ranges_delete_counts AFTER DELETE ON school_ip_ranges
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER school_groups_insert_counts AFTER INSERT ON school_groups
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER school_groups_update_counts AFTER UPDATE ON school_groups
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER school_groups_delete_counts AFTER DELETE ON school_groups
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER pupils_insert_counts AFTER INSERT ON pupils
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER pupils_update_counts AFTER UPDATE ON pupils
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER pupils_delete_counts AFTER DELETE ON pupils
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER pupil_groups_insert_counts AFTER INSERT ON pupil_groups
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER pupil_groups_update_counts AFTER UPDATE ON pupil_groups
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER pupil_groups_delete_counts AFTER DELETE ON pupil_groups
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER parties_insert_counts AFTER INSERT ON parties
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER parties_update_counts AFTER UPDATE ON parties
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER parties_delete_counts AFTER DELETE ON parties
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER products_insert_counts AFTER INSERT ON products
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER products_update_counts AFTER UPDATE ON products
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER products_delete_counts AFTER DELETE ON products
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER party_release_attributes_insert_counts AFTER INSERT ON party_release_attributes
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER party_release_attributes_update_counts AFTER UPDATE ON party_release_attributes
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER party_release_attributes_delete_counts AFTER DELETE ON party_release_attributes
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER licences_insert_counts AFTER INSERT ON licences
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER licences_update_counts AFTER UPDATE ON licences
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER licences_delete_counts AFTER DELETE ON licences
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER licence_members_insert_counts AFTER INSERT ON licence_members
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER licence_members_update_counts AFTER UPDATE ON licence_members
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER licence_members_delete_counts AFTER DELETE ON licence_members
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER consents_insert_counts AFTER INSERT ON consents
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER consents_update_counts AFTER UPDATE ON consents
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER consents_delete_counts AFTER DELETE ON consents
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER oidc_clients_insert_counts AFTER INSERT ON oidc_clients
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER oidc_clients_update_counts AFTER UPDATE ON oidc_clients
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER oidc_clients_delete_counts AFTER DELETE ON oidc_clients
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER saml_service_providers_insert_counts AFTER INSERT ON saml_service_providers
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER saml_service_providers_update_counts AFTER UPDATE ON saml_service_providers
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER saml_service_providers_delete_counts AFTER DELETE ON saml_service_providers
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;
