-- Up Migration
-- What each version was made from, written by the load that made it, in its transaction:
--   source: the file it was loaded from ({ sha256, bytes, format, day, counts, whole }). The next load of a
--     file that begins with those bytes reads only the rest (src/load/4-record/earlier-load.ts).
--   orders_added_after: set when this version is the one before it plus orders numbered above this id, with
--     their lines, and any products, customers and names; null when the load changed or removed anything the
--     record held. Its snapshot is then made from the previous one plus those orders (src/snapshot/build.ts).
ALTER TABLE data_version ADD COLUMN source jsonb, ADD COLUMN orders_added_after bigint;

-- Down Migration
ALTER TABLE data_version DROP COLUMN source, DROP COLUMN orders_added_after;
