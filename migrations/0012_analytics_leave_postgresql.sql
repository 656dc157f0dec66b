-- Up Migration
-- The aggregation layer leaves PostgreSQL: the analytics answer from a DuckDB snapshot of each committed
-- version (src/snapshot/), which builds its rollups from the record. A load writes only the record.
DROP TABLE sales_by_day_product_region, sales_by_month_product_region, sales_by_year_product_region,
  sales_by_year_product, sales_through_year_product_region, sales_by_day_category_region, sales_by_day_region,
  customers_by_day, sales_by_day_customer, sales_by_year_customer;

-- The run whose load made the current version: a process killed after the commit, before the snapshot was
-- published, left the data changed, and the run that recovery marks failed must say so.
ALTER TABLE data_version ADD COLUMN run_id bigint;

-- Down Migration
-- Not reversible: the rollups were derived data, and the version that read them rebuilt them with a replace load.
