-- Up Migration
-- What a running refresh is doing: preparing, reading the file, or applying it, and the step it is on. The
-- apply after the last byte is read can take most of a large load: without this the run looked stalled.
ALTER TABLE refresh_runs
  ADD COLUMN phase text CHECK (phase IN ('preparing', 'reading', 'applying')),
  ADD COLUMN step text;

-- Down Migration
ALTER TABLE refresh_runs DROP COLUMN phase, DROP COLUMN step;
