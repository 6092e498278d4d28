-- A link between a staff member and a group may hold for a period only (an invalkracht standing
-- in for a teacher): valid from and until, Dutch calendar dates as ISO text (YYYY-MM-DD, both
-- days included), NULL for no bound. The reads that grant access filter by today's date, so a
-- link ends by itself without any job having to run.
ALTER TABLE staff_groups ADD COLUMN valid_from TEXT;
ALTER TABLE staff_groups ADD COLUMN valid_until TEXT;
