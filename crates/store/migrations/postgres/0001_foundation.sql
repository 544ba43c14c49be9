-- Foundation: accounts, sessions, authentication limits, API tokens, portfolio, audit, revisions.
-- PostgreSQL types: ids UUID (v7), times TIMESTAMPTZ, dates DATE, JSON as JSONB.

CREATE TABLE users (
    id UUID PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    totp_secret TEXT,
    totp_enabled_at TIMESTAMPTZ,
    totp_last_step BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE recovery_codes (
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    stage TEXT NOT NULL CHECK (stage IN ('mfa_pending', 'active')),
    csrf_token TEXT NOT NULL,
    project_id UUID,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE auth_failures (
    scope TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    key TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX auth_failures_key ON auth_failures (scope, key, at);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE programs (
    id UUID PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE projects (
    id UUID PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    program_id UUID REFERENCES programs(id),
    status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
    revision BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE phases (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    ordinal BIGINT NOT NULL,
    name TEXT NOT NULL,
    starts_on DATE,
    ends_on DATE,
    revision BIGINT NOT NULL,
    UNIQUE (project_id, ordinal)
);

CREATE TABLE organisations (
    id UUID PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
    project_id UUID NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'lead')),
    organisation_id UUID REFERENCES organisations(id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE audit_events (
    id UUID PRIMARY KEY NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    actor_id UUID,
    actor TEXT NOT NULL,
    project_id UUID,
    artefact_type TEXT NOT NULL,
    artefact_id TEXT NOT NULL,
    action TEXT NOT NULL,
    changes JSONB NOT NULL,
    reason TEXT
);
CREATE INDEX audit_events_project ON audit_events (project_id, at);
CREATE INDEX audit_events_artefact ON audit_events (artefact_type, artefact_id);

CREATE TABLE revisions (
    id UUID PRIMARY KEY NOT NULL,
    artefact_type TEXT NOT NULL,
    artefact_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    data JSONB NOT NULL,
    content_hash TEXT NOT NULL,
    author_id UUID,
    at TIMESTAMPTZ NOT NULL,
    UNIQUE (artefact_type, artefact_id, number)
);

-- The audit trail and revisions are append-only: the database itself refuses changes.
CREATE FUNCTION opensesa_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION opensesa_append_only();
CREATE TRIGGER revisions_append_only BEFORE UPDATE OR DELETE ON revisions
    FOR EACH ROW EXECUTE FUNCTION opensesa_append_only();
