-- Change notices for the read cache (directory/src/cache.rs) on PostgreSQL: every statement
-- that changes a table the cache keeps reads of announces itself on the channel
-- `openpoort_register`, whichever process ran it (a node, the operator's command line, a fix by
-- hand in psql). PostgreSQL delivers a notice when the transaction commits, in commit order, and
-- folds the notices of one transaction into one, so an import of a thousand pupils costs one.
-- Unlike the version row SQLite counts up (0009), a notice takes no row lock: imports of
-- different schools do not wait for each other's commits.
--
-- The payload is the changed table's schema, so that installations (or tests) sharing one
-- database in schemas of their own empty only their own caches.
CREATE FUNCTION openpoort_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('openpoort_register', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE TRIGGER schools_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON schools
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER school_ip_ranges_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON school_ip_ranges
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER school_groups_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON school_groups
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER pupils_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pupils
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER pupil_groups_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pupil_groups
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER parties_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON parties
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER products_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER licences_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON licences
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER licence_members_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON licence_members
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER consents_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consents
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER party_release_attributes_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON party_release_attributes
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER oidc_clients_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oidc_clients
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER saml_service_providers_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON saml_service_providers
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER lika_products_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lika_products
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER lika_methods_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lika_methods
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER lika_user_access_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lika_user_access
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER lika_eck_access_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lika_eck_access
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
CREATE TRIGGER network_upstreams_announces AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON network_upstreams
    FOR EACH STATEMENT EXECUTE FUNCTION openpoort_announce_change();
