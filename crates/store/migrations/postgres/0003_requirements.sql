-- Requirements: modules, requirements, trace links, comments, review rounds, quality settings,
-- pending imports, and full-text search (tsvector).

CREATE TABLE req_modules (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    parent_id UUID REFERENCES req_modules (id) DEFERRABLE INITIALLY DEFERRED,
    prefix TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    ordinal BIGINT NOT NULL,
    attributes JSONB NOT NULL,
    revision BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, prefix)
);

-- The next number per id prefix: incremented in the transaction that creates the requirement,
-- so numbers are distinct under concurrency and a rolled-back creation leaves no gap.
CREATE TABLE req_counters (
    project_id UUID NOT NULL REFERENCES projects (id),
    prefix TEXT NOT NULL,
    next_number BIGINT NOT NULL,
    PRIMARY KEY (project_id, prefix)
);

CREATE TABLE requirements (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    module_id UUID NOT NULL REFERENCES req_modules (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    statement TEXT NOT NULL,
    statement_xhtml TEXT,
    rationale TEXT NOT NULL,
    kind TEXT NOT NULL,
    priority TEXT NOT NULL,
    verification_methods JSONB NOT NULL,
    source TEXT NOT NULL,
    owner TEXT NOT NULL,
    tags JSONB NOT NULL,
    attributes JSONB NOT NULL,
    parent_id UUID REFERENCES requirements (id) DEFERRABLE INITIALLY DEFERRED,
    ordinal BIGINT NOT NULL,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    approved_revision BIGINT,
    external_id TEXT,
    findings JSONB NOT NULL,
    statement_key TEXT NOT NULL,
    comments_text TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', replace(human_id, '-', ' ')), 'A')
        || setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', statement), 'B')
        || setweight(to_tsvector('english', comments_text), 'C')
    ) STORED,
    UNIQUE (project_id, human_id)
);
CREATE INDEX requirements_search ON requirements USING GIN (search);
CREATE INDEX requirements_module ON requirements (module_id, ordinal);
CREATE INDEX requirements_project_status ON requirements (project_id, status);
CREATE INDEX requirements_module_status ON requirements (module_id, status);
CREATE INDEX requirements_parent ON requirements (parent_id);
CREATE INDEX requirements_statement_key ON requirements (project_id, statement_key);
CREATE UNIQUE INDEX requirements_external ON requirements (project_id, external_id);

CREATE TABLE trace_links (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    kind TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source_id UUID NOT NULL,
    target_type TEXT NOT NULL,
    target_id UUID NOT NULL,
    source_revision BIGINT NOT NULL,
    target_revision BIGINT NOT NULL,
    suspect BOOLEAN NOT NULL,
    suspect_reasons JSONB NOT NULL,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    confirmed_at TIMESTAMPTZ NOT NULL,
    confirmed_by UUID,
    external_id TEXT,
    UNIQUE (project_id, kind, source_id, target_id)
);
CREATE INDEX trace_links_source ON trace_links (source_id, kind);
CREATE INDEX trace_links_target ON trace_links (target_id, kind);
CREATE INDEX trace_links_suspect ON trace_links (project_id, suspect);

CREATE TABLE req_comments (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    requirement_id UUID NOT NULL REFERENCES requirements (id),
    -- The first comment of the thread this one answers; NULL for a thread's first comment.
    thread_id UUID REFERENCES req_comments (id) DEFERRABLE INITIALLY DEFERRED,
    author_id UUID,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    revision BIGINT NOT NULL,
    resolved_at TIMESTAMPTZ,
    resolved_by TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX req_comments_requirement ON req_comments (requirement_id, created_at);

CREATE TABLE review_rounds (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    closed_by TEXT,
    closed_at TIMESTAMPTZ,
    summary TEXT NOT NULL
);
CREATE INDEX review_rounds_project ON review_rounds (project_id, opened_at);

CREATE TABLE review_items (
    round_id UUID NOT NULL REFERENCES review_rounds (id),
    requirement_id UUID NOT NULL REFERENCES requirements (id),
    revision BIGINT NOT NULL,
    outcome TEXT,
    PRIMARY KEY (round_id, requirement_id)
);
CREATE INDEX review_items_requirement ON review_items (requirement_id);

CREATE TABLE review_reviewers (
    round_id UUID NOT NULL REFERENCES review_rounds (id),
    user_id UUID NOT NULL REFERENCES users (id),
    PRIMARY KEY (round_id, user_id)
);

CREATE TABLE review_decisions (
    round_id UUID NOT NULL REFERENCES review_rounds (id),
    requirement_id UUID NOT NULL REFERENCES requirements (id),
    reviewer_id UUID NOT NULL REFERENCES users (id),
    decision TEXT NOT NULL,
    comment TEXT NOT NULL,
    revision BIGINT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (round_id, requirement_id, reviewer_id)
);

CREATE TABLE req_settings (
    project_id UUID PRIMARY KEY NOT NULL REFERENCES projects (id),
    disabled_rules JSONB NOT NULL
);

-- Uploaded files waiting for the person to confirm the dry-run report; transient (not in
-- backups) and pruned after a day.
CREATE TABLE req_imports (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    module_id UUID,
    format TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content BYTEA NOT NULL,
    created_by UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    report JSONB NOT NULL
);
