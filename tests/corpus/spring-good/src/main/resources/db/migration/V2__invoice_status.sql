SET lock_timeout = '5s';
ALTER TABLE invoices ADD COLUMN status text NOT NULL DEFAULT 'open';
