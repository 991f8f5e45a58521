-- The billing domain. Every tenant-owned row carries company_id so that every query can be
-- scoped to the caller's companies with one indexed condition.

CREATE TABLE organisations (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    name       text NOT NULL,
    slug       text NOT NULL,
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, slug)
);

CREATE TABLE invoicers (
    id                          bigserial PRIMARY KEY,
    company_id                  bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    company_entity              text NOT NULL,
    description                 text,
    company_tax_number          text,
    company_registration_number text,
    company_address             text,
    currency                    char(3),
    tax_rate                    numeric(7, 4),
    is_default                  boolean NOT NULL DEFAULT false,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoicers_company ON invoicers (company_id, id);

CREATE TABLE payment_details (
    id             bigserial PRIMARY KEY,
    company_id     bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    invoicer_id    bigint NOT NULL REFERENCES invoicers (id) ON DELETE CASCADE,
    label          text,
    bank_name      text,
    account_name   text,
    account_number text,
    iban           text,
    swift          text,
    is_default     boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_details_invoicer ON payment_details (invoicer_id, id);

CREATE TABLE recipients (
    id                          bigserial PRIMARY KEY,
    company_id                  bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    organisation_id             bigint NOT NULL REFERENCES organisations (id) ON DELETE RESTRICT,
    company_entity              text NOT NULL,
    contact_name                text,
    email                       text,
    phone                       text,
    description                 text,
    company_tax_number          text,
    company_registration_number text,
    company_address             text,
    currency                    char(3),
    tax_rate                    numeric(7, 4),
    default_hour_rate           numeric(14, 4),
    is_default                  boolean NOT NULL DEFAULT false,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recipients_company ON recipients (company_id, id);
CREATE INDEX recipients_organisation ON recipients (organisation_id);

-- Client-portal users (kind "client" in auth-service), each linked to one recipient.
CREATE TABLE recipient_contacts (
    user_id      bigint PRIMARY KEY,
    recipient_id bigint NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
    company_id   bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    email        text NOT NULL,
    name         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recipient_contacts_recipient ON recipient_contacts (recipient_id);

CREATE TABLE products (
    id             bigserial PRIMARY KEY,
    company_id     bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    type           text NOT NULL CHECK (type IN ('product', 'service')),
    name           text NOT NULL,
    description    text,
    sku            text,
    price          numeric(18, 4) NOT NULL DEFAULT 0,
    unit           text NOT NULL DEFAULT 'service',
    tax_rate       numeric(7, 4),
    active         boolean NOT NULL DEFAULT true,
    stock_quantity numeric(18, 4) CHECK (stock_quantity >= 0),  -- stock never below zero
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_company ON products (company_id, id);

CREATE TABLE stock_movements (
    id             bigserial PRIMARY KEY,
    product_id     bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    adjustment     numeric(18, 4) NOT NULL,
    quantity_after numeric(18, 4) NOT NULL,
    reason         text,
    user_id        bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_product ON stock_movements (product_id, id);

-- Gap-free numbers per company and prefix: the row is locked by the creating transaction
-- until it commits, and a rollback gives the number back.
CREATE TABLE number_sequences (
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    prefix     text NOT NULL,
    last_value bigint NOT NULL,
    PRIMARY KEY (company_id, prefix)
);

CREATE TABLE invoices (
    id                         bigserial PRIMARY KEY,
    company_id                 bigint NOT NULL REFERENCES companies (id) ON DELETE RESTRICT,
    public_id                  text NOT NULL UNIQUE,  -- 128 random bits, for the public page
    type                       text NOT NULL CHECK (type IN ('invoice', 'quote', 'recurring', 'template')),
    status                     text NOT NULL CHECK (status IN ('draft', 'scheduled', 'due', 'approved', 'sent', 'paid', 'cancelled', 'declined', 'converted')),
    label                      text NOT NULL,
    invoicer_id                bigint REFERENCES invoicers (id) ON DELETE RESTRICT,
    invoice_recipient_id       bigint REFERENCES recipients (id) ON DELETE RESTRICT,
    invoicer_payment_detail_id bigint REFERENCES payment_details (id) ON DELETE RESTRICT,
    currency                   char(3) NOT NULL,
    scheduled_date             date NOT NULL,
    due_date                   date,
    valid_until                date,
    subject                    text,
    period                     text,
    recurring                  text CHECK (recurring IN ('daily', 'weekly', 'monthly', 'quarterly', 'yearly')),
    next_run_date              date,
    invoice_parent_id          bigint REFERENCES invoices (id) ON DELETE SET NULL,
    description                text,
    notes                      text,
    subtotal                   numeric(18, 4) NOT NULL DEFAULT 0,
    tax                        numeric(18, 4) NOT NULL DEFAULT 0,
    total                      numeric(18, 4) NOT NULL DEFAULT 0,
    amount_paid                numeric(18, 4) NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    version                    integer NOT NULL DEFAULT 1,
    created_by                 bigint NOT NULL,
    approved_at                timestamptz,
    sent_at                    timestamptz,
    paid_at                    timestamptz,
    cancelled_at               timestamptz,
    deleted_at                 timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CHECK (due_date IS NULL OR due_date >= scheduled_date),
    CHECK (amount_paid <= total)
);
-- Listing one company's invoices, newest first, stays an index range scan at any size.
CREATE INDEX invoices_company_id ON invoices (company_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX invoices_company_status ON invoices (company_id, status, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX invoices_company_type ON invoices (company_id, type, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX invoices_recipient ON invoices (invoice_recipient_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX invoices_company_due ON invoices (company_id, due_date) WHERE deleted_at IS NULL AND status IN ('sent', 'due');
CREATE INDEX invoices_parent ON invoices (invoice_parent_id) WHERE invoice_parent_id IS NOT NULL;

CREATE TABLE invoice_items (
    id                      bigserial PRIMARY KEY,
    invoice_id              bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    position                integer NOT NULL,
    label                   text NOT NULL,
    unit                    text NOT NULL,
    quantity                numeric(12, 4) NOT NULL,
    price                   numeric(18, 4) NOT NULL,
    tax_percentage          numeric(7, 4) NOT NULL,
    discount_percentage     boolean NOT NULL,
    discount                numeric(18, 4) NOT NULL,
    price_includes_tax      boolean NOT NULL,
    price_includes_discount boolean NOT NULL,
    include                 boolean NOT NULL,
    product_id              bigint REFERENCES products (id) ON DELETE SET NULL,
    net                     numeric(18, 4) NOT NULL,
    tax_amount              numeric(18, 4) NOT NULL,
    total                   numeric(18, 4) NOT NULL
);
CREATE INDEX invoice_items_invoice ON invoice_items (invoice_id, position);

CREATE TABLE invoice_members (
    invoice_id      bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    member_id       bigint NOT NULL,
    view_invoice    boolean NOT NULL,
    receive_invoice boolean NOT NULL,
    action_invoice  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (invoice_id, member_id)
);

CREATE TABLE payments (
    id             bigserial PRIMARY KEY,
    invoice_id     bigint NOT NULL REFERENCES invoices (id) ON DELETE RESTRICT,
    company_id     bigint NOT NULL REFERENCES companies (id) ON DELETE RESTRICT,
    amount         numeric(18, 4) NOT NULL CHECK (amount > 0),
    paid_date      date NOT NULL,
    reference      text,
    payment_method text,
    user_id        bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_invoice ON payments (invoice_id, id);

CREATE TABLE invoice_history (
    id          bigserial PRIMARY KEY,
    invoice_id  bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    user_id     bigint,
    event       text NOT NULL,
    from_status text,
    to_status   text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoice_history_invoice ON invoice_history (invoice_id, id);

-- Transactional outbox of e-mails; the mailer delivers them.
CREATE TABLE email_outbox (
    id             bigserial PRIMARY KEY,
    company_id     bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    invoice_id     bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    template       text NOT NULL,
    to_email       text NOT NULL,
    custom_message text,
    status         text NOT NULL DEFAULT 'pending',
    attempts       integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at        timestamptz,
    user_id        bigint,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_outbox_pending ON email_outbox (next_attempt_at) WHERE status = 'pending';

-- Idempotency-Key: the first answer to a POST, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    user_id      bigint NOT NULL,
    key          text NOT NULL,
    request_hash char(64) NOT NULL,
    status       integer,  -- NULL while the first request is still running
    body         bytea,
    content_type text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
