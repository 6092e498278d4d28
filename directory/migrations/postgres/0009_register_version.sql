-- The register's version, as on SQLite (see migrations/sqlite/0009), without its triggers.
-- A PostgreSQL installation runs several nodes, and a counter row that every change updates
-- would make concurrent writers (imports of different schools) wait for each other's commit;
-- nodes are to learn of changes through LISTEN/NOTIFY instead. Until then the read cache is off
-- on PostgreSQL and this row stays 0.
CREATE TABLE register_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO register_version (id, version) VALUES (1, 0);
