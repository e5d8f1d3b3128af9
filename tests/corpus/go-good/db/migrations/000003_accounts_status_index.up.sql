SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_status_idx ON accounts (status);
