-- The operator role: staff accounts that may use the /operator pages (the register's boards,
-- schools, parties, products, SPs, clients and the outage notice). Granted and revoked only with
-- `openpoort operator grant|revoke` on the server, so that no page or API call can make an
-- operator.
CREATE TABLE operators (
    staff_id   TEXT PRIMARY KEY REFERENCES staff(id),
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL
);

-- The first ICT-coördinator of a school, created by an operator on the board's signed request:
-- who signed for the board, the reference of that document, and which operator approved it.
CREATE TABLE first_ict_requests (
    id           TEXT PRIMARY KEY,
    school_id    TEXT NOT NULL REFERENCES schools(id),
    staff_id     TEXT NOT NULL REFERENCES staff(id),
    requested_by TEXT NOT NULL,
    document_ref TEXT NOT NULL,
    approved_by  TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX first_ict_requests_school ON first_ict_requests (school_id);
