-- Automatic links from a school location to its LAS (leerlingadministratiesysteem). A link is
-- active only when both sides agree: the school switched it on here (enabled_by_school) and the
-- LAS accepted the key at the last pull (accepted_by_las; NULL until the first answer).
--
-- The school's authorisation key is sealed under the key-encryption key (AES-256-GCM, bound to
-- the link's id), like every other secret. last_attempt_at doubles as the claim of a scheduled
-- pull: a node takes a due link by moving it past the current slot in one conditional UPDATE,
-- so several nodes never pull one school at the same time. failing_since marks a failure
-- streak; failure_notified says its one mail to the school's administrators went out.
CREATE TABLE las_links (
    id                TEXT PRIMARY KEY,
    school_id         TEXT NOT NULL UNIQUE REFERENCES schools(id),
    vendor            TEXT NOT NULL CHECK (vendor IN ('parnassys', 'dotcomschool', 'esis', 'eduscope', 'generic')),
    endpoint          TEXT NOT NULL,
    auth_header       TEXT NOT NULL,
    auth_scheme       TEXT,
    sealed_key        BLOB NOT NULL,
    kek_id            TEXT NOT NULL,
    enabled_by_school BOOLEAN NOT NULL,
    enabled_at        BIGINT,
    accepted_by_las   BOOLEAN,
    last_attempt_at   BIGINT,
    last_status       TEXT CHECK (last_status IN ('ok', 'refused', 'unreachable', 'bad_file', 'too_large', 'import_failed')),
    last_message      TEXT,
    last_success_at   BIGINT,
    failing_since     BIGINT,
    failure_notified  BOOLEAN NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
