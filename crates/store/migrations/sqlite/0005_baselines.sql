-- Baselines and release governance: baselines (draft → frozen) whose items live in
-- content-addressed groups (a two-level hash tree shared between baselines), release packs on
-- frozen baselines, adoption actions and governance decisions. Human ids (BL-, RP-, AA-) come
-- from req_counters under prefixes requirement modules may not use.

CREATE TABLE baselines (
    id BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL,
    content_hash TEXT,
    items BIGINT,
    counts TEXT,
    frozen_by BLOB,
    frozen_at TEXT,
    created_by BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (project_id, human_id)
);
CREATE INDEX baselines_project ON baselines (project_id, number);

-- A group body: one line per item (id, revision, revision hash, parent, label), sorted by id,
-- stored once under its SHA-256 whatever number of baselines share it.
CREATE TABLE baseline_blobs (
    hash TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    items BIGINT NOT NULL,
    body TEXT NOT NULL
);

-- The groups of a frozen baseline: (kind, container) → the hash of its body.
CREATE TABLE baseline_groups (
    baseline_id BLOB NOT NULL REFERENCES baselines (id),
    kind TEXT NOT NULL,
    group_id BLOB NOT NULL,
    items BIGINT NOT NULL,
    hash TEXT NOT NULL REFERENCES baseline_blobs (hash),
    PRIMARY KEY (baseline_id, kind, group_id)
);

CREATE TABLE release_packs (
    id BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    baseline_id BLOB NOT NULL REFERENCES baselines (id),
    name TEXT NOT NULL,
    notes TEXT NOT NULL,
    documents TEXT NOT NULL,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    locked_by BLOB,
    locked_at TEXT,
    lock_override TEXT,
    created_by BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (project_id, human_id)
);
CREATE INDEX release_packs_project ON release_packs (project_id, number);

CREATE TABLE adoption_actions (
    id BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id),
    pack_id BLOB NOT NULL REFERENCES release_packs (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    owner TEXT NOT NULL,
    due TEXT,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (project_id, human_id)
);
CREATE INDEX adoption_actions_pack ON adoption_actions (pack_id, number);

CREATE TABLE governance_decisions (
    id BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id),
    pack_id BLOB NOT NULL REFERENCES release_packs (id),
    decision TEXT NOT NULL,
    rationale TEXT NOT NULL,
    conditions TEXT NOT NULL,
    checklist_passed BOOLEAN NOT NULL,
    decided_by BLOB,
    decided_by_name TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX governance_decisions_pack ON governance_decisions (pack_id, decided_at);

-- A frozen baseline never changes; its groups, the shared bodies and decisions are
-- append-only. The database itself refuses the changes.
CREATE TRIGGER baselines_frozen_no_update BEFORE UPDATE ON baselines WHEN OLD.status = 'frozen'
BEGIN SELECT RAISE(ABORT, 'a frozen baseline cannot change'); END;
CREATE TRIGGER baselines_no_delete BEFORE DELETE ON baselines WHEN OLD.status = 'frozen'
BEGIN SELECT RAISE(ABORT, 'a frozen baseline cannot change'); END;
CREATE TRIGGER baseline_groups_no_update BEFORE UPDATE ON baseline_groups
BEGIN SELECT RAISE(ABORT, 'baseline_groups is immutable'); END;
CREATE TRIGGER baseline_groups_no_delete BEFORE DELETE ON baseline_groups
BEGIN SELECT RAISE(ABORT, 'baseline_groups is immutable'); END;
CREATE TRIGGER baseline_blobs_no_update BEFORE UPDATE ON baseline_blobs
BEGIN SELECT RAISE(ABORT, 'baseline_blobs is immutable'); END;
CREATE TRIGGER baseline_blobs_no_delete BEFORE DELETE ON baseline_blobs
BEGIN SELECT RAISE(ABORT, 'baseline_blobs is immutable'); END;
CREATE TRIGGER governance_decisions_no_update BEFORE UPDATE ON governance_decisions
BEGIN SELECT RAISE(ABORT, 'governance_decisions is immutable'); END;
CREATE TRIGGER governance_decisions_no_delete BEFORE DELETE ON governance_decisions
BEGIN SELECT RAISE(ABORT, 'governance_decisions is immutable'); END;
