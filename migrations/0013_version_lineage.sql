-- Up Migration
-- What each version was made from, written by the load that made it, in its transaction:
--   source: the file it was loaded from ({ sha256, bytes, format, day, counts, whole }). The next load of a
--     file that begins with those bytes reads only the rest (src/load/4-record/earlier-load.ts).
--   changed_orders: how many orders it added, changed or removed lines of, listed in version_orders; null when
--     they were not recorded (a first load, or one that changed more than half the stored lines). Its snapshot
--     is then the previous one with those orders' facts made again (src/snapshot/build.ts).
--   only_added: whether the load only added lines (none updated or deleted): the previous snapshot's bounds
--     of the figures still hold, widened by the new lines'.
ALTER TABLE data_version ADD COLUMN source jsonb, ADD COLUMN changed_orders bigint, ADD COLUMN only_added boolean;

-- The orders each version changed, kept for the newest version only (a load deletes the older ones' rows).
CREATE TABLE version_orders (
  version  bigint NOT NULL,
  order_id integer NOT NULL,
  PRIMARY KEY (version, order_id)
);

-- Down Migration
DROP TABLE version_orders;
ALTER TABLE data_version DROP COLUMN source, DROP COLUMN changed_orders, DROP COLUMN only_added;
