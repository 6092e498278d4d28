-- The network providers' upstreams are read through the read cache (`upstream`), but migration
-- 0018 gave their table no triggers, so a change made by another process (the operator's
-- command line) went unseen by a running server until some other change moved the version.
-- They count the register's version like every other cached table (see 0009).
CREATE TRIGGER network_upstreams_insert_counts AFTER INSERT ON network_upstreams
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER network_upstreams_update_counts AFTER UPDATE ON network_upstreams
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER network_upstreams_delete_counts AFTER DELETE ON network_upstreams
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;
