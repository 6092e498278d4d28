-- The release audit keeps the user's name as it was at the release, so that a school reading
-- "who received what about whom" sees the person as the party knew them that day, also after a
-- rename by an import. On the audit log itself: its append-only trigger (0001) keeps the name
-- as written, and the retention removes it with its entry. NULL on entries written before this
-- migration (and on entries that are not releases).
ALTER TABLE audit_log ADD COLUMN subject_name TEXT;

-- A school's releases by time: whether the range a school filters on holds releases from before
-- a mark below is one short range of it, where the indexes by position would read every release
-- of the school to find none.
CREATE INDEX audit_log_releases_by_time ON audit_log (school_id, at) WHERE action = 'release.allow';

-- Since when the release audit records a part of a release: 'release_groups' (the groups at
-- the release, migration 0012) and 'release_names' (the name at the release, this migration).
-- A release older than a mark lacks that part, and the school is told so. 0012's moment is the
-- one the migrator recorded for it; on a new register both are now.
CREATE TABLE audit_recorded_since (
    what  TEXT PRIMARY KEY,
    since BIGINT NOT NULL
);
INSERT INTO audit_recorded_since (what, since)
    SELECT 'release_groups', CAST(strftime('%s', installed_on) AS INTEGER)
    FROM _sqlx_migrations WHERE version = 12;
INSERT INTO audit_recorded_since (what, since)
    VALUES ('release_names', CAST(strftime('%s', 'now') AS INTEGER));

CREATE TRIGGER audit_recorded_since_no_update BEFORE UPDATE ON audit_recorded_since
BEGIN
    SELECT RAISE(ABORT, 'audit_recorded_since is append-only');
END;
CREATE TRIGGER audit_recorded_since_no_delete BEFORE DELETE ON audit_recorded_since
BEGIN
    SELECT RAISE(ABORT, 'audit_recorded_since is append-only');
END;
