-- Accounts receivable (issue 20): credit notes are records of the invoices table that name the
-- invoice they correct; refunds; customer credit per currency; one received payment across
-- several invoices.

ALTER TABLE invoices DROP CONSTRAINT invoices_type_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_type_check
    CHECK (type IN ('invoice', 'quote', 'recurring', 'template', 'credit_note'));
ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check
    CHECK (status IN ('draft', 'scheduled', 'due', 'approved', 'sent', 'paid', 'cancelled',
                      'declined', 'converted', 'credited'));

-- amount_paid is the money the invoice keeps (payments, less refunds and less what a credit
-- note moved to the customer's credit); amount_credited the issued credit notes' totals. The
-- balance due is total - amount_paid - amount_credited, never negative: the constraint holds
-- every writer to it, whatever races.
ALTER TABLE invoices
    ADD COLUMN amount_credited numeric(18, 4) NOT NULL DEFAULT 0 CHECK (amount_credited >= 0),
    ADD COLUMN amount_refunded numeric(18, 4) NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0),
    ADD COLUMN credited_invoice_id bigint REFERENCES invoices (id) ON DELETE RESTRICT,
    ADD COLUMN credit_reason text CHECK (length(credit_reason) <= 1000),
    ADD CONSTRAINT invoices_settled_within_total CHECK (amount_paid + amount_credited <= total),
    ADD CONSTRAINT invoices_credit_note_names_invoice
        CHECK ((type = 'credit_note') = (credited_invoice_id IS NOT NULL));
CREATE INDEX invoices_credited_invoice ON invoices (credited_invoice_id)
    WHERE credited_invoice_id IS NOT NULL;

-- One payment received from a customer, allocated across invoices (each allocation is a row of
-- payments); what is left unallocated went to the customer's credit.
CREATE TABLE received_payments (
    id             bigserial PRIMARY KEY,
    company_id     bigint NOT NULL REFERENCES companies (id) ON DELETE RESTRICT,
    recipient_id   bigint NOT NULL REFERENCES recipients (id) ON DELETE RESTRICT,
    amount         numeric(18, 4) NOT NULL CHECK (amount > 0),
    unallocated    numeric(18, 4) NOT NULL CHECK (unallocated >= 0 AND unallocated <= amount),
    currency       char(3) NOT NULL,
    paid_date      date NOT NULL,
    payment_method text CHECK (length(payment_method) <= 100),
    reference      text CHECK (length(reference) <= 255),
    user_id        bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX received_payments_company ON received_payments (company_id, id DESC);
CREATE INDEX received_payments_recipient ON received_payments (recipient_id, id DESC);

ALTER TABLE payments
    ADD COLUMN received_payment_id bigint REFERENCES received_payments (id) ON DELETE RESTRICT,
    ADD COLUMN amount_refunded numeric(18, 4) NOT NULL DEFAULT 0,
    ADD CONSTRAINT payments_refund_within_amount
        CHECK (amount_refunded >= 0 AND amount_refunded <= amount);
CREATE INDEX payments_received ON payments (received_payment_id)
    WHERE received_payment_id IS NOT NULL;

CREATE TABLE refunds (
    id          bigserial PRIMARY KEY,
    invoice_id  bigint NOT NULL REFERENCES invoices (id) ON DELETE RESTRICT,
    company_id  bigint NOT NULL REFERENCES companies (id) ON DELETE RESTRICT,
    payment_id  bigint REFERENCES payments (id) ON DELETE RESTRICT,
    amount      numeric(18, 4) NOT NULL CHECK (amount > 0),
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    refunded_at date NOT NULL,
    user_id     bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_invoice ON refunds (invoice_id, id);

-- A customer's available credit per currency: one row, updated under its row lock, never
-- below zero (the constraint refuses a spend of credit that is not there).
CREATE TABLE customer_credits (
    recipient_id bigint NOT NULL REFERENCES recipients (id) ON DELETE RESTRICT,
    currency     char(3) NOT NULL,
    company_id   bigint NOT NULL REFERENCES companies (id) ON DELETE RESTRICT,
    available    numeric(18, 4) NOT NULL DEFAULT 0 CHECK (available >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (recipient_id, currency)
);

-- Every change of that credit, signed: what made it and what it went to.
CREATE TABLE customer_credit_entries (
    id                  bigserial PRIMARY KEY,
    recipient_id        bigint NOT NULL REFERENCES recipients (id) ON DELETE RESTRICT,
    currency            char(3) NOT NULL,
    company_id          bigint NOT NULL REFERENCES companies (id) ON DELETE RESTRICT,
    amount              numeric(18, 4) NOT NULL CHECK (amount <> 0),
    source              text NOT NULL CHECK (source IN ('credit_note', 'payment', 'applied')),
    invoice_id          bigint REFERENCES invoices (id) ON DELETE RESTRICT,
    received_payment_id bigint REFERENCES received_payments (id) ON DELETE RESTRICT,
    user_id             bigint NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_credit_entries_recipient
    ON customer_credit_entries (recipient_id, currency, id);
