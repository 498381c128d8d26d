-- Kept in step with the Postgres migrations: there, the rollup tables get storage settings for
-- their in-place updates (fillfactor, autovacuum). SQLite updates rows in place and has no
-- vacuum debt to manage.
SELECT 1;
