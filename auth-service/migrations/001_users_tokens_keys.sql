CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL DEFAULT 'member' CHECK (kind IN ('member', 'client')),
    name          text NOT NULL,
    first_name    text,
    last_name     text,
    email         text NOT NULL,
    password_hash text NOT NULL,
    company_name  text,
    address1      text,
    address2      text,
    city          text,
    state         text,
    postcode      text,
    country       text,
    phone         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));

-- Laravel Sanctum's personal_access_tokens, keyed to our users.
CREATE TABLE personal_access_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         varchar(255) NOT NULL,
    token        char(64) NOT NULL UNIQUE,  -- SHA-256 hex of the secret; the secret is never stored
    abilities    text[] NOT NULL,
    last_used_at timestamptz,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id);

-- Ed25519 keys that sign identity JWTs, shared by every replica.
CREATE TABLE signing_keys (
    kid         text PRIMARY KEY,
    private_pem text NOT NULL,
    public_jwk  jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);
