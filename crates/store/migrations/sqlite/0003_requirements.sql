-- Requirements: modules, requirements, trace links, comments, review rounds, quality settings,
-- pending imports, and full-text search (FTS5).

CREATE TABLE req_modules (
    id BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id),
    parent_id BLOB REFERENCES req_modules (id) DEFERRABLE INITIALLY DEFERRED,
    prefix TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    ordinal BIGINT NOT NULL,
    attributes TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (project_id, prefix)
);

-- The next number per id prefix: incremented in the transaction that creates the requirement,
-- so numbers are distinct under concurrency and a rolled-back creation leaves no gap.
CREATE TABLE req_counters (
    project_id BLOB NOT NULL REFERENCES projects (id),
    prefix TEXT NOT NULL,
    next_number BIGINT NOT NULL,
    PRIMARY KEY (project_id, prefix)
);

CREATE TABLE requirements (
    -- An explicit rowid alias: FTS5 external content needs rowids that VACUUM keeps.
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    project_id BLOB NOT NULL REFERENCES projects (id),
    module_id BLOB NOT NULL REFERENCES req_modules (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    statement TEXT NOT NULL,
    statement_xhtml TEXT,
    rationale TEXT NOT NULL,
    kind TEXT NOT NULL,
    priority TEXT NOT NULL,
    verification_methods TEXT NOT NULL,
    source TEXT NOT NULL,
    owner TEXT NOT NULL,
    tags TEXT NOT NULL,
    attributes TEXT NOT NULL,
    parent_id BLOB REFERENCES requirements (id) DEFERRABLE INITIALLY DEFERRED,
    ordinal BIGINT NOT NULL,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    approved_revision BIGINT,
    external_id TEXT,
    findings TEXT NOT NULL,
    statement_key TEXT NOT NULL,
    comments_text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (project_id, human_id)
);
CREATE INDEX requirements_module ON requirements (module_id, ordinal);
CREATE INDEX requirements_project_status ON requirements (project_id, status);
CREATE INDEX requirements_module_status ON requirements (module_id, status);
CREATE INDEX requirements_parent ON requirements (parent_id);
CREATE INDEX requirements_statement_key ON requirements (project_id, statement_key);
CREATE UNIQUE INDEX requirements_external ON requirements (project_id, external_id);

CREATE TABLE trace_links (
    id BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id),
    kind TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source_id BLOB NOT NULL,
    target_type TEXT NOT NULL,
    target_id BLOB NOT NULL,
    source_revision BIGINT NOT NULL,
    target_revision BIGINT NOT NULL,
    suspect BOOLEAN NOT NULL,
    suspect_reasons TEXT NOT NULL,
    created_by BLOB,
    created_at TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    confirmed_by BLOB,
    external_id TEXT,
    UNIQUE (project_id, kind, source_id, target_id)
);
CREATE INDEX trace_links_source ON trace_links (source_id, kind);
CREATE INDEX trace_links_target ON trace_links (target_id, kind);
CREATE INDEX trace_links_suspect ON trace_links (project_id, suspect);

CREATE TABLE req_comments (
    id BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id),
    requirement_id BLOB NOT NULL REFERENCES requirements (id),
    -- The first comment of the thread this one answers; NULL for a thread's first comment.
    thread_id BLOB REFERENCES req_comments (id) DEFERRABLE INITIALLY DEFERRED,
    author_id BLOB,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    revision BIGINT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX req_comments_requirement ON req_comments (requirement_id, created_at);

CREATE TABLE review_rounds (
    id BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id),
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_by TEXT,
    closed_at TEXT,
    summary TEXT NOT NULL
);
CREATE INDEX review_rounds_project ON review_rounds (project_id, opened_at);

CREATE TABLE review_items (
    round_id BLOB NOT NULL REFERENCES review_rounds (id),
    requirement_id BLOB NOT NULL REFERENCES requirements (id),
    revision BIGINT NOT NULL,
    outcome TEXT,
    PRIMARY KEY (round_id, requirement_id)
);
CREATE INDEX review_items_requirement ON review_items (requirement_id);

CREATE TABLE review_reviewers (
    round_id BLOB NOT NULL REFERENCES review_rounds (id),
    user_id BLOB NOT NULL REFERENCES users (id),
    PRIMARY KEY (round_id, user_id)
);

CREATE TABLE review_decisions (
    round_id BLOB NOT NULL REFERENCES review_rounds (id),
    requirement_id BLOB NOT NULL REFERENCES requirements (id),
    reviewer_id BLOB NOT NULL REFERENCES users (id),
    decision TEXT NOT NULL,
    comment TEXT NOT NULL,
    revision BIGINT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (round_id, requirement_id, reviewer_id)
);

CREATE TABLE req_settings (
    project_id BLOB PRIMARY KEY NOT NULL REFERENCES projects (id),
    disabled_rules TEXT NOT NULL
);

-- Uploaded files waiting for the person to confirm the dry-run report; transient (not in
-- backups) and pruned after a day.
CREATE TABLE req_imports (
    id BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id),
    module_id BLOB,
    format TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content BLOB NOT NULL,
    created_by BLOB NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    report TEXT NOT NULL
);

CREATE VIRTUAL TABLE requirements_fts USING fts5(
    human_id, title, statement, comments_text,
    content = 'requirements', content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER requirements_fts_insert AFTER INSERT ON requirements BEGIN
    INSERT INTO requirements_fts (rowid, human_id, title, statement, comments_text)
    VALUES (new.seq, new.human_id, new.title, new.statement, new.comments_text);
END;
CREATE TRIGGER requirements_fts_delete AFTER DELETE ON requirements BEGIN
    INSERT INTO requirements_fts (requirements_fts, rowid, human_id, title, statement, comments_text)
    VALUES ('delete', old.seq, old.human_id, old.title, old.statement, old.comments_text);
END;
CREATE TRIGGER requirements_fts_update AFTER UPDATE OF human_id, title, statement, comments_text ON requirements BEGIN
    INSERT INTO requirements_fts (requirements_fts, rowid, human_id, title, statement, comments_text)
    VALUES ('delete', old.seq, old.human_id, old.title, old.statement, old.comments_text);
    INSERT INTO requirements_fts (rowid, human_id, title, statement, comments_text)
    VALUES (new.seq, new.human_id, new.title, new.statement, new.comments_text);
END;
