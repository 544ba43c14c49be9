-- Verification and validation: plans, activities, cases, case sets, immutable results (with
-- evidence listed on the result), the latest effective result per case, daily verdict counts,
-- defects and verification snapshots. Human ids (VP-, VC-, DEF-, VS-) come from req_counters
-- under prefixes that requirement modules may not use.

CREATE TABLE vv_plans (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    scope_modules JSONB NOT NULL,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    approved_by UUID,
    approved_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, human_id)
);

CREATE TABLE vv_activities (
    id UUID PRIMARY KEY NOT NULL,
    plan_id UUID NOT NULL REFERENCES vv_plans (id),
    title TEXT NOT NULL,
    phase TEXT NOT NULL,
    method TEXT NOT NULL,
    planned_start DATE,
    planned_end DATE,
    organisation TEXT NOT NULL,
    ordinal BIGINT NOT NULL
);
CREATE INDEX vv_activities_plan ON vv_activities (plan_id, ordinal);

CREATE TABLE vv_cases (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    method TEXT NOT NULL,
    preconditions TEXT NOT NULL,
    steps JSONB NOT NULL,
    expected TEXT NOT NULL,
    automation_key TEXT NOT NULL,
    -- The content hash of the current revision (as in the revisions table): snapshots and
    -- baselines record it without reading revisions.
    content_hash TEXT NOT NULL,
    activity_id UUID REFERENCES vv_activities (id),
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, human_id)
);
CREATE INDEX vv_cases_project_number ON vv_cases (project_id, number);
CREATE INDEX vv_cases_activity ON vv_cases (activity_id);
CREATE INDEX vv_cases_automation ON vv_cases (project_id, automation_key);

CREATE TABLE vv_sets (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE vv_set_cases (
    set_id UUID NOT NULL REFERENCES vv_sets (id),
    case_id UUID NOT NULL REFERENCES vv_cases (id),
    ordinal BIGINT NOT NULL,
    PRIMARY KEY (set_id, case_id)
);
CREATE INDEX vv_set_cases_case ON vv_set_cases (case_id);

CREATE TABLE vv_results (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    case_id UUID NOT NULL REFERENCES vv_cases (id),
    case_revision BIGINT NOT NULL,
    run_id UUID,
    set_id UUID REFERENCES vv_sets (id),
    verdict TEXT NOT NULL,
    steps JSONB NOT NULL,
    executor TEXT NOT NULL,
    executed_at TIMESTAMPTZ NOT NULL,
    configuration TEXT NOT NULL,
    baseline_id UUID,
    notes TEXT NOT NULL,
    evidence JSONB NOT NULL,
    -- A correction names the result it replaces; each result is replaced at most once, so
    -- corrections form a chain.
    supersedes_id UUID UNIQUE REFERENCES vv_results (id) DEFERRABLE INITIALLY DEFERRED,
    supersede_reason TEXT NOT NULL,
    source TEXT NOT NULL,
    recorded_by UUID,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vv_results_case ON vv_results (case_id, executed_at);
CREATE INDEX vv_results_project ON vv_results (project_id, recorded_at);
CREATE INDEX vv_results_run ON vv_results (run_id);

-- The latest effective (not superseded) result of each case, kept in the transaction that
-- records results: the RVTM and dashboards read 50,000 rows here, not 500,000 results.
CREATE TABLE vv_latest (
    case_id UUID PRIMARY KEY NOT NULL REFERENCES vv_cases (id),
    project_id UUID NOT NULL REFERENCES projects (id),
    result_id UUID NOT NULL REFERENCES vv_results (id),
    verdict TEXT NOT NULL,
    executed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vv_latest_project ON vv_latest (project_id, verdict);

-- Results recorded per day and verdict, for the dashboard's trend.
CREATE TABLE vv_daily (
    project_id UUID NOT NULL REFERENCES projects (id),
    day DATE NOT NULL,
    verdict TEXT NOT NULL,
    results BIGINT NOT NULL,
    PRIMARY KEY (project_id, day, verdict)
);

CREATE TABLE vv_defects (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    results JSONB NOT NULL,
    cases JSONB NOT NULL,
    requirements JSONB NOT NULL,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, human_id)
);
CREATE INDEX vv_defects_project_status ON vv_defects (project_id, status);

CREATE TABLE vv_snapshots (
    id UUID PRIMARY KEY NOT NULL,
    project_id UUID NOT NULL REFERENCES projects (id),
    human_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    scope_kind TEXT NOT NULL,
    scope_id UUID NOT NULL,
    scope_label TEXT NOT NULL,
    content JSONB NOT NULL,
    content_hash TEXT NOT NULL,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, human_id)
);

-- Results and snapshots are immutable: the database itself refuses changes.
CREATE TRIGGER vv_results_immutable BEFORE UPDATE OR DELETE ON vv_results
    FOR EACH ROW EXECUTE FUNCTION opensesa_append_only();
CREATE TRIGGER vv_snapshots_immutable BEFORE UPDATE OR DELETE ON vv_snapshots
    FOR EACH ROW EXECUTE FUNCTION opensesa_append_only();
