ALTER TABLE invoices ADD COLUMN status text NOT NULL;
CREATE INDEX invoices_status_idx ON invoices (status);
