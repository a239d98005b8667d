CREATE TABLE IF NOT EXISTS signup (
    id          bigserial PRIMARY KEY,
    email       text NOT NULL CONSTRAINT signup_email_key UNIQUE,
    welcomed_at timestamptz
);
