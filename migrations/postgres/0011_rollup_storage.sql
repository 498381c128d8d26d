-- The rollup tables are updated in place with every batch of calls and every finished task: on
-- Postgres each update leaves a dead row version, and a report that scans a few thousand live
-- rows would wade through hundreds of thousands of dead ones until autovacuum came by (default:
-- once a fifth of a table is dead). Measured on the 10M-call bench right after its load: the
-- ANALYST ROI 117 ms, the Dashboard 237 ms, Health 168 ms; after VACUUM 1–18 ms. So these
-- tables leave room in each page for updates that stay on the page (HOT: nothing to clean up in
-- the indexes), and are vacuumed and analysed after 1–2 % of them changed.
ALTER TABLE call_rollups_hourly SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE call_rollups_daily SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE call_totals_hourly SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE task_rollups_hourly SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE task_rollups_daily SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE task_top_hourly SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE task_totals SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000);
ALTER TABLE budget_periods SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000);
