SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS invoices_status_idx ON invoices (status);
