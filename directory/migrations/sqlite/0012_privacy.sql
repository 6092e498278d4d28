-- Privacy: the school's release audit read by party, group and date, and the board's processing
-- agreement (verwerkersovereenkomst).

-- The groups a released user was in at the moment of the release (their group keys, as the
-- release carried them), so that "which releases were about groep 5" stays true after pupils
-- move up a year. Written in the same transaction as the release's audit entry and removed with
-- it by the retention.
CREATE TABLE audit_release_groups (
    seq       BIGINT NOT NULL REFERENCES audit_log(seq),
    school_id TEXT NOT NULL,
    group_key TEXT NOT NULL,
    PRIMARY KEY (seq, group_key)
);
CREATE INDEX audit_release_groups_by_group ON audit_release_groups (school_id, group_key, seq);

-- The release audit pages newest first through a school's releases, also per party; partial,
-- because the rest of the log is read per school by audit_log_by_school.
CREATE INDEX audit_log_releases ON audit_log (school_id, seq) WHERE action = 'release.allow';
CREATE INDEX audit_log_releases_by_party ON audit_log (school_id, party_id, seq)
    WHERE action = 'release.allow';

-- Who accepted which version of the processing agreement for a board, and when. A record is a
-- declaration: it is never changed or removed, and a version is accepted once per board.
CREATE TABLE agreement_acceptances (
    id          TEXT PRIMARY KEY,
    board_id    TEXT NOT NULL REFERENCES boards(id),
    version     TEXT NOT NULL,
    school_id   TEXT REFERENCES schools(id),
    -- The audit actor (staff:<id>, api:<client>, operator:cli) and the name it had then, so the
    -- record reads the same after a person's name or address changes.
    accepted_by TEXT NOT NULL,
    accepted_by_name TEXT NOT NULL,
    accepted_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX agreement_acceptances_once ON agreement_acceptances (board_id, version);

CREATE TRIGGER agreement_acceptances_no_update BEFORE UPDATE ON agreement_acceptances
BEGIN
    SELECT RAISE(ABORT, 'agreement_acceptances is append-only');
END;
CREATE TRIGGER agreement_acceptances_no_delete BEFORE DELETE ON agreement_acceptances
BEGIN
    SELECT RAISE(ABORT, 'agreement_acceptances is append-only');
END;
