-- Exact invoice counts per company, type and status, kept by a trigger, so list pages answer
-- meta.total without counting rows (lists with other filters use a capped count instead).
CREATE TABLE invoice_counts (
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    type       text NOT NULL,
    status     text NOT NULL,
    count      bigint NOT NULL,
    PRIMARY KEY (company_id, type, status)
);

CREATE FUNCTION invoice_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE invoice_counts SET count = count - 1
        WHERE company_id = OLD.company_id AND type = OLD.type AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
        INSERT INTO invoice_counts AS c (company_id, type, status, count)
        VALUES (NEW.company_id, NEW.type, NEW.status, 1)
        ON CONFLICT (company_id, type, status) DO UPDATE SET count = c.count + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER invoice_counts_insert AFTER INSERT ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoice_counts_track();
CREATE TRIGGER invoice_counts_change AFTER UPDATE OF company_id, type, status, deleted_at ON invoices
    FOR EACH ROW
    WHEN ((OLD.company_id, OLD.type, OLD.status, OLD.deleted_at IS NULL)
          IS DISTINCT FROM (NEW.company_id, NEW.type, NEW.status, NEW.deleted_at IS NULL))
    EXECUTE FUNCTION invoice_counts_track();
CREATE TRIGGER invoice_counts_delete AFTER DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoice_counts_track();

INSERT INTO invoice_counts (company_id, type, status, count)
SELECT company_id, type, status, count(*) FROM invoices WHERE deleted_at IS NULL
GROUP BY company_id, type, status;
