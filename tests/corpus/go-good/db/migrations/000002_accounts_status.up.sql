SET lock_timeout = '5s';
ALTER TABLE accounts ADD COLUMN status text NOT NULL DEFAULT 'open';
