-- The school register. Identifiers are random UUIDs kept as text, times are unix seconds and
-- dates are ISO text, so that the same queries run unchanged on SQLite and PostgreSQL.

CREATE TABLE boards (
    id             TEXT PRIMARY KEY,
    bestuursnummer TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE schools (
    id             TEXT PRIMARY KEY,
    board_id       TEXT NOT NULL REFERENCES boards(id),
    brin           TEXT NOT NULL,
    vestigingscode TEXT NOT NULL,
    name           TEXT NOT NULL,
    instelling_ref TEXT NOT NULL UNIQUE,
    active         BOOLEAN NOT NULL,
    merged_into    TEXT REFERENCES schools(id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (brin, vestigingscode)
);

CREATE TABLE school_ip_ranges (
    id         TEXT PRIMARY KEY,
    school_id  TEXT NOT NULL REFERENCES schools(id),
    cidr       TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (school_id, cidr)
);

-- kind: 'stamgroep' (a class, with a jaargroep) or 'samengesteld' (a combined or subject group).
CREATE TABLE school_groups (
    id         TEXT PRIMARY KEY,
    school_id  TEXT NOT NULL REFERENCES schools(id),
    las_key    TEXT NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('stamgroep', 'samengesteld')),
    jaargroep  TEXT,
    active     BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (school_id, las_key)
);

CREATE TABLE pupils (
    id           TEXT PRIMARY KEY,
    school_id    TEXT NOT NULL REFERENCES schools(id),
    las_key      TEXT NOT NULL,
    achternaam   TEXT NOT NULL,
    voorvoegsel  TEXT,
    voornamen    TEXT,
    roepnaam     TEXT,
    jaargroep    TEXT NOT NULL,
    stamgroep_id TEXT REFERENCES school_groups(id),
    eck_id       TEXT UNIQUE,
    active       BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (school_id, las_key)
);

-- Combined groups only; the stamgroep is pupils.stamgroep_id, so that "at most one" holds by
-- construction.
CREATE TABLE pupil_groups (
    pupil_id TEXT NOT NULL REFERENCES pupils(id),
    group_id TEXT NOT NULL REFERENCES school_groups(id),
    PRIMARY KEY (pupil_id, group_id)
);

-- A staff member is one person with one login, who may work at several schools.
CREATE TABLE staff (
    id          TEXT PRIMARY KEY,
    email       TEXT UNIQUE,
    achternaam  TEXT NOT NULL,
    voorvoegsel TEXT,
    voornamen   TEXT,
    roepnaam    TEXT,
    eck_id      TEXT UNIQUE,
    status      TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Where a staff member works, with the LAS key that school's administration uses for them.
CREATE TABLE staff_memberships (
    staff_id   TEXT NOT NULL REFERENCES staff(id),
    school_id  TEXT NOT NULL REFERENCES schools(id),
    las_key    TEXT,
    active     BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (staff_id, school_id),
    UNIQUE (school_id, las_key)
);

-- Role 'ict_coordinator' makes the staff member an administrator of that school; an
-- administrator may hold it at many schools without being on their LAS staff list.
CREATE TABLE staff_roles (
    staff_id   TEXT NOT NULL REFERENCES staff(id),
    school_id  TEXT NOT NULL REFERENCES schools(id),
    role       TEXT NOT NULL CHECK (role IN ('leerkracht', 'ict_coordinator', 'ib', 'rt', 'stagiaire', 'invalkracht')),
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (staff_id, school_id, role)
);

CREATE TABLE staff_groups (
    staff_id TEXT NOT NULL REFERENCES staff(id),
    group_id TEXT NOT NULL REFERENCES school_groups(id),
    PRIMARY KEY (staff_id, group_id)
);

CREATE TABLE parties (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('publisher', 'network_provider')),
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE products (
    id           TEXT PRIMARY KEY,
    party_id     TEXT NOT NULL REFERENCES parties(id),
    code         TEXT NOT NULL,
    methode      TEXT NOT NULL,
    name         TEXT NOT NULL,
    launch_url   TEXT NOT NULL,
    icon_url     TEXT,
    home_allowed BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (party_id, code)
);

-- scope 'school' covers every pupil and staff member; 'members' covers only licence_members.
CREATE TABLE licences (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools(id),
    product_id  TEXT NOT NULL REFERENCES products(id),
    scope       TEXT NOT NULL CHECK (scope IN ('school', 'members')),
    valid_from  TEXT NOT NULL,
    valid_until TEXT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX licences_by_school ON licences (school_id, product_id);

CREATE TABLE licence_members (
    licence_id  TEXT NOT NULL REFERENCES licences(id),
    member_kind TEXT NOT NULL CHECK (member_kind IN ('group', 'pupil', 'staff')),
    member_id   TEXT NOT NULL,
    PRIMARY KEY (licence_id, member_kind, member_id)
);

-- A revocation closes the row; a new grant opens a new one, so the history stays readable.
CREATE TABLE consents (
    id         TEXT PRIMARY KEY,
    school_id  TEXT NOT NULL REFERENCES schools(id),
    party_id   TEXT NOT NULL REFERENCES parties(id),
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    revoked_by TEXT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX consents_one_open ON consents (school_id, party_id) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    school_id TEXT,
    party_id  TEXT,
    subject   TEXT,
    details   TEXT NOT NULL
);
CREATE INDEX audit_log_by_school ON audit_log (school_id, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE signing_keys (
    kid                   TEXT PRIMARY KEY,
    alg                   TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    state                 TEXT NOT NULL CHECK (state IN ('next', 'current', 'retired')),
    public_key_pem        TEXT NOT NULL,
    certificate_pem       TEXT,
    encrypted_private_key BLOB NOT NULL,
    kek_id                TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    activated_at          BIGINT,
    retired_at            BIGINT
);
-- Two nodes starting at once must not both create a current key.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next';
