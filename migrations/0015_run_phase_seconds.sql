-- Up Migration
-- How long each phase of a run took (preparing, reading, applying, snapshot), written when it finishes: the
-- refresh metrics read it from the record, so that runs of every process (the CLI's too) count alike.
ALTER TABLE refresh_runs ADD COLUMN phase_seconds jsonb;

-- Down Migration
ALTER TABLE refresh_runs DROP COLUMN phase_seconds;
