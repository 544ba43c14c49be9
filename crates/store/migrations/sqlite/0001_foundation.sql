-- Foundation: accounts, sessions, authentication limits, API tokens, portfolio, audit, revisions.
-- SQLite types: ids are 16-byte BLOBs (UUIDv7), times RFC 3339 TEXT in UTC, JSON as TEXT.

CREATE TABLE users (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    totp_secret TEXT,
    totp_enabled_at TEXT,
    totp_last_step BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE recovery_codes (
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TEXT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    stage TEXT NOT NULL CHECK (stage IN ('mfa_pending', 'active')),
    csrf_token TEXT NOT NULL,
    project_id BLOB,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE auth_failures (
    scope TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX auth_failures_key ON auth_failures (scope, key, at);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE programs (
    id BLOB PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE projects (
    id BLOB PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    program_id BLOB REFERENCES programs(id),
    status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
    revision BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE phases (
    id BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    ordinal BIGINT NOT NULL,
    name TEXT NOT NULL,
    starts_on TEXT,
    ends_on TEXT,
    revision BIGINT NOT NULL,
    UNIQUE (project_id, ordinal)
);

CREATE TABLE organisations (
    id BLOB PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE memberships (
    project_id BLOB NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'lead')),
    organisation_id BLOB REFERENCES organisations(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE audit_events (
    id BLOB PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    actor_id BLOB,
    actor TEXT NOT NULL,
    project_id BLOB,
    artefact_type TEXT NOT NULL,
    artefact_id TEXT NOT NULL,
    action TEXT NOT NULL,
    changes TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX audit_events_project ON audit_events (project_id, at);
CREATE INDEX audit_events_artefact ON audit_events (artefact_type, artefact_id);

CREATE TABLE revisions (
    id BLOB PRIMARY KEY NOT NULL,
    artefact_type TEXT NOT NULL,
    artefact_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    data TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    author_id BLOB,
    at TEXT NOT NULL,
    UNIQUE (artefact_type, artefact_id, number)
);

-- The audit trail and revisions are append-only: the database itself refuses changes.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
BEGIN SELECT RAISE(ABORT, 'revisions is append-only'); END;
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
BEGIN SELECT RAISE(ABORT, 'revisions is append-only'); END;
