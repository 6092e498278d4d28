-- A party's request for a school's permission to synchronise (Basispoort's
-- `…/uitgever/synchronizationpermission?request-permission=true`), shown to the school's
-- ICT-coördinator until it is answered. At most one open request per school and party (the
-- partial unique index, so that a burst of requests records one). A request is closed when the
-- school consents (`consent`), when the party withdraws it or relinquishes the permission
-- (`withdrawn`), when the school declines it (`declined`), or when a consent it raced with ends
-- (`consent`); the row stays as history.
CREATE TABLE permission_requests (
    id           TEXT PRIMARY KEY,
    school_id    TEXT NOT NULL REFERENCES schools(id),
    party_id     TEXT NOT NULL REFERENCES parties(id),
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    closed_by    TEXT,
    closed_at    BIGINT,
    outcome      TEXT CHECK (outcome IN ('consent', 'withdrawn', 'declined'))
);
CREATE UNIQUE INDEX permission_requests_one_open ON permission_requests (school_id, party_id)
    WHERE closed_at IS NULL;
