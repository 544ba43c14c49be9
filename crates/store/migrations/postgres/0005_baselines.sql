-- Baselines and release governance: baselines (draft → frozen) whose items live in
-- content-addressed groups (a two-level hash tree shared between baselines), release packs on
-- frozen baselines, adoption actions and governance decisions. Human ids (BL-, RP-, AA-) come
-- from req_counters under prefixes requirement modules may not use.

CREATE TABLE baselines (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    scope JSONB NOT NULL,
    status TEXT NOT NULL,
    content_hash TEXT,
    items BIGINT,
    counts JSONB,
    frozen_by UUID,
    frozen_at TIMESTAMPTZ,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
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
    baseline_id UUID NOT NULL REFERENCES baselines (id),
    kind TEXT NOT NULL,
    group_id UUID NOT NULL,
    items BIGINT NOT NULL,
    hash TEXT NOT NULL REFERENCES baseline_blobs (hash),
    PRIMARY KEY (baseline_id, kind, group_id)
);

CREATE TABLE release_packs (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    baseline_id UUID NOT NULL REFERENCES baselines (id),
    name TEXT NOT NULL,
    notes TEXT NOT NULL,
    documents JSONB NOT NULL,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    locked_by UUID,
    locked_at TIMESTAMPTZ,
    lock_override TEXT,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, human_id)
);
CREATE INDEX release_packs_project ON release_packs (project_id, number);

CREATE TABLE adoption_actions (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    pack_id UUID NOT NULL REFERENCES release_packs (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    owner TEXT NOT NULL,
    due DATE,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, human_id)
);
CREATE INDEX adoption_actions_pack ON adoption_actions (pack_id, number);

CREATE TABLE governance_decisions (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    pack_id UUID NOT NULL REFERENCES release_packs (id),
    decision TEXT NOT NULL,
    rationale TEXT NOT NULL,
    conditions TEXT NOT NULL,
    checklist_passed BOOLEAN NOT NULL,
    decided_by UUID,
    decided_by_name TEXT NOT NULL,
    decided_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX governance_decisions_pack ON governance_decisions (pack_id, decided_at);

-- A frozen baseline never changes; its groups, the shared bodies and decisions are
-- append-only. The database itself refuses the changes.
CREATE FUNCTION opensesa_frozen_baseline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'frozen' THEN
        RAISE EXCEPTION 'baseline % is frozen and cannot change', OLD.human_id;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER baselines_frozen BEFORE UPDATE OR DELETE ON baselines
    FOR EACH ROW EXECUTE FUNCTION opensesa_frozen_baseline();
CREATE TRIGGER baseline_groups_immutable BEFORE UPDATE OR DELETE ON baseline_groups
    FOR EACH ROW EXECUTE FUNCTION opensesa_append_only();
CREATE TRIGGER baseline_blobs_immutable BEFORE UPDATE OR DELETE ON baseline_blobs
    FOR EACH ROW EXECUTE FUNCTION opensesa_append_only();
CREATE TRIGGER governance_decisions_immutable BEFORE UPDATE OR DELETE ON governance_decisions
    FOR EACH ROW EXECUTE FUNCTION opensesa_append_only();
