CREATE TABLE companies (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL,
    slug       text NOT NULL UNIQUE,
    timezone   text NOT NULL DEFAULT 'UTC',
    created_by bigint NOT NULL,  -- a user id of auth-service (another database: no foreign key)
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE company_members (
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, user_id)
);
CREATE INDEX company_members_user ON company_members (user_id, company_id);

-- Each user's current company: the default for creates that name none.
CREATE TABLE user_preferences (
    user_id            bigint PRIMARY KEY,
    current_company_id bigint REFERENCES companies (id) ON DELETE SET NULL
);
