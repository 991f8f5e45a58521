-- Invoice numbers are unique per company and type. Soft-deleted invoices keep their number, so
-- the index covers them too: a number once issued is never issued again.
--
-- Numbers chosen by clients may already repeat. The oldest invoice keeps its number; each later
-- one gets "<number>-<its id>" (made longer until free), a new version (its ETag changes) and
-- a history entry saying what it was called before.
DO $$
DECLARE
    duplicate record;
    renamed   text;
BEGIN
    FOR duplicate IN
        SELECT id, company_id, type, label, status
        FROM (
            SELECT id, company_id, type, label, status,
                   row_number() OVER (PARTITION BY company_id, type, label ORDER BY id) AS rank
            FROM invoices
        ) ranked
        WHERE rank > 1
        ORDER BY id
    LOOP
        renamed := duplicate.label || '-' || duplicate.id;
        WHILE EXISTS (
            SELECT 1 FROM invoices
            WHERE company_id = duplicate.company_id AND type = duplicate.type AND label = renamed
        ) LOOP
            renamed := renamed || '-' || duplicate.id;
        END LOOP;
        UPDATE invoices
        SET label = renamed, version = version + 1, updated_at = now()
        WHERE id = duplicate.id;
        INSERT INTO invoice_history (invoice_id, user_id, event, from_status, to_status)
        VALUES (duplicate.id, NULL, 'renumbered_duplicate:' || duplicate.label,
                duplicate.status, duplicate.status);
    END LOOP;
END $$;

-- Label first: "is this number used in the company, of any type" (what number generation asks
-- before handing one out) is a lookup on the index's first two columns.
CREATE UNIQUE INDEX invoices_label_unique ON invoices (company_id, label, type);
