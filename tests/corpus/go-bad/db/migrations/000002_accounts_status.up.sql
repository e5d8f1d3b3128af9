ALTER TABLE accounts ADD COLUMN status text NOT NULL;
CREATE INDEX accounts_status_idx ON accounts (status);
ALTER TABLE accounts DROP COLUMN legacy_ref;
