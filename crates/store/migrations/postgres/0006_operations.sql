-- Operations readiness: readiness items, milestones with their gating items, and
-- finish-to-start dependencies between items and milestones. Human ids (OPS-, MS-) come from
-- req_counters under prefixes that requirement modules may not use.

CREATE TABLE ops_items (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_date DATE,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    duration_days BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    done_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, human_id)
);
CREATE INDEX ops_items_project_number ON ops_items (project_id, number);

CREATE TABLE ops_milestones (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    target_date DATE NOT NULL,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, human_id)
);
CREATE INDEX ops_milestones_project_number ON ops_milestones (project_id, number);

-- The gating criteria of a milestone: items that must be done, in the listed order.
CREATE TABLE ops_gates (
    milestone_id UUID NOT NULL REFERENCES ops_milestones (id),
    item_id UUID NOT NULL REFERENCES ops_items (id),
    project_id UUID NOT NULL REFERENCES projects (id),
    ordinal BIGINT NOT NULL,
    PRIMARY KEY (milestone_id, item_id)
);
CREATE INDEX ops_gates_project ON ops_gates (project_id);
CREATE INDEX ops_gates_item ON ops_gates (item_id);

-- Finish-to-start: the successor cannot start before the predecessor is finished. Ends are
-- items or milestones (kind + id); the writer checks existence, duplicates and cycles.
CREATE TABLE ops_dependencies (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    predecessor_kind TEXT NOT NULL,
    predecessor_id UUID NOT NULL,
    successor_kind TEXT NOT NULL,
    successor_id UUID NOT NULL,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (predecessor_id, successor_id)
);
CREATE INDEX ops_dependencies_project ON ops_dependencies (project_id);
CREATE INDEX ops_dependencies_successor ON ops_dependencies (successor_id);

-- Bumped in every transaction that changes a project's plan (items, milestones, gates,
-- dependencies): readers keep the analysed plan in memory per (project, version, day).
CREATE TABLE ops_versions (
    project_id UUID PRIMARY KEY NOT NULL REFERENCES projects (id),
    version BIGINT NOT NULL
);
