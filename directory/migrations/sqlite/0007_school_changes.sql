-- School changes: a merged location keeps its row (its audit history and codes stay readable)
-- and points at the location it was merged into; when that happened is kept beside it.

ALTER TABLE schools ADD COLUMN merged_at BIGINT;
CREATE INDEX schools_by_merged_into ON schools (merged_into);
