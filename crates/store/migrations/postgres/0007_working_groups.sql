-- The working state as baseline groups, kept warm so that freezing a baseline and comparing
-- one with the working state read only what changed (docs/baselines.md, "Working groups").
--
-- 1. A requirement row carries the content hash of its current revision (written with the
--    revision, in the same transaction), so reading the working state needs no join with the
--    revisions table.
-- 2. working_groups: one row per (project, kind, container) group of the working state. Every
--    write that can change a group's items bumps its `version` (statement-level triggers
--    below, so no writer can forget and a bulk edit costs one statement); a reader that
--    computed the group from a snapshot stores its body and hash with the version it saw, and
--    only if the version is still that one. A group is clean when hashed_version = version.
--    It is a cache: never dumped, rebuilt from the rows. Bumps are inserted in key order so
--    that two writers lock group rows in the same order.

ALTER TABLE requirements ADD COLUMN content_hash TEXT;
UPDATE requirements t SET content_hash = r.content_hash FROM revisions r
WHERE r.artefact_type = 'requirement' AND r.artefact_id = t.id::text AND r.number = t.revision;

CREATE TABLE working_groups (
    project_id UUID NOT NULL REFERENCES projects (id),
    kind TEXT NOT NULL,
    group_id UUID NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind, group_id)
);

-- What a reader computed, with the version it computed it at; clean when that is the group's
-- version now. Apart from working_groups so that a version bump (on every write) does not
-- rewrite a body of hundreds of kilobytes.
CREATE TABLE working_group_cache (
    project_id UUID NOT NULL REFERENCES projects (id),
    kind TEXT NOT NULL,
    group_id UUID NOT NULL,
    hashed_version BIGINT NOT NULL,
    hash TEXT NOT NULL,
    items BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (project_id, kind, group_id)
);

-- Group bodies are tens of megabytes per 100,000 requirements: lz4 compresses them several
-- times faster than the default pglz (a first freeze writes every body).
ALTER TABLE working_group_cache ALTER COLUMN body SET COMPRESSION lz4;
ALTER TABLE baseline_blobs ALTER COLUMN body SET COMPRESSION lz4;

-- Every non-empty group of existing data starts dirty.
INSERT INTO working_groups (project_id, kind, group_id, version)
SELECT DISTINCT project_id, k.kind, module_id, 1 FROM requirements
CROSS JOIN (VALUES ('requirement'), ('trace_link')) k (kind);
INSERT INTO working_groups (project_id, kind, group_id, version)
SELECT DISTINCT c.project_id, k.kind, COALESCE(a.plan_id, '00000000-0000-0000-0000-000000000000'::uuid), 1
FROM vv_cases c LEFT JOIN vv_activities a ON a.id = c.activity_id
CROSS JOIN (VALUES ('vv_case'), ('vv_result'), ('trace_link')) k (kind)
ON CONFLICT DO NOTHING;

-- Bumps the version of each (project, kind, group) in a set, creating missing rows.
CREATE FUNCTION working_groups_bump(keys JSONB) RETURNS void LANGUAGE sql AS $$
    INSERT INTO working_groups AS w (project_id, kind, group_id, version)
    SELECT DISTINCT (k ->> 'p')::uuid, k ->> 'k', (k ->> 'g')::uuid, 1::bigint
    FROM jsonb_array_elements(keys) k
    ORDER BY 1, 2, 3
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = w.version + 1
$$;

-- The container of a case: its activity's plan, or the nil group.
CREATE FUNCTION working_groups_case_plan(activity UUID) RETURNS UUID LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT plan_id FROM vv_activities WHERE id = activity),
                    '00000000-0000-0000-0000-000000000000'::uuid)
$$;

-- Requirements: their module's requirement group; a move or a new human id also changes
-- link labels and link groups anywhere in the project.
CREATE FUNCTION working_groups_requirements_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM working_groups_bump(COALESCE(jsonb_agg(DISTINCT jsonb_build_object(
        'p', project_id, 'k', 'requirement', 'g', module_id)), '[]'))
    FROM new_rows;
    RETURN NULL;
END $$;
CREATE TRIGGER working_groups_requirement_insert AFTER INSERT ON requirements
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_requirements_inserted();

CREATE FUNCTION working_groups_requirements_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM working_groups_bump(COALESCE(jsonb_agg(DISTINCT jsonb_build_object(
        'p', x.project_id, 'k', x.kind, 'g', x.module_id)), '[]'))
    FROM (
        SELECT o.project_id, 'requirement' AS kind, o.module_id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.human_id, o.module_id, o.parent_id, o.revision, o.content_hash)
              IS DISTINCT FROM (n.human_id, n.module_id, n.parent_id, n.revision, n.content_hash)
        UNION ALL
        SELECT n.project_id, 'requirement', n.module_id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.human_id, o.module_id, o.parent_id, o.revision, o.content_hash)
              IS DISTINCT FROM (n.human_id, n.module_id, n.parent_id, n.revision, n.content_hash)
        UNION ALL
        SELECT n.project_id, 'trace_link', n.module_id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.module_id <> n.module_id OR o.human_id <> n.human_id
    ) x;
    UPDATE working_groups SET version = version + 1
    WHERE kind = 'trace_link' AND project_id IN (
        SELECT n.project_id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.module_id <> n.module_id OR o.human_id <> n.human_id);
    RETURN NULL;
END $$;
CREATE TRIGGER working_groups_requirement_update AFTER UPDATE ON requirements
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_requirements_updated();

CREATE FUNCTION working_groups_requirements_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM working_groups_bump(COALESCE(jsonb_agg(DISTINCT jsonb_build_object(
        'p', project_id, 'k', 'requirement', 'g', module_id)), '[]'))
    FROM old_rows;
    UPDATE working_groups SET version = version + 1
    WHERE kind = 'trace_link' AND project_id IN (SELECT project_id FROM old_rows);
    RETURN NULL;
END $$;
CREATE TRIGGER working_groups_requirement_delete AFTER DELETE ON requirements
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_requirements_deleted();

-- Links: the link group of their source's container (a requirement's module, a case's plan).
CREATE FUNCTION working_groups_links_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM working_groups_bump(COALESCE(jsonb_agg(DISTINCT jsonb_build_object(
            'p', l.project_id, 'k', 'trace_link',
            'g', COALESCE(r.module_id, working_groups_case_plan(c.activity_id)))), '[]'))
        FROM new_rows l LEFT JOIN requirements r ON r.id = l.source_id
        LEFT JOIN vv_cases c ON c.id = l.source_id
        WHERE r.id IS NOT NULL OR c.id IS NOT NULL;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM working_groups_bump(COALESCE(jsonb_agg(DISTINCT jsonb_build_object(
            'p', l.project_id, 'k', 'trace_link',
            'g', COALESCE(r.module_id, working_groups_case_plan(c.activity_id)))), '[]'))
        FROM old_rows l LEFT JOIN requirements r ON r.id = l.source_id
        LEFT JOIN vv_cases c ON c.id = l.source_id
        WHERE r.id IS NOT NULL OR c.id IS NOT NULL;
    ELSE
        UPDATE working_groups SET version = version + 1
        WHERE kind = 'trace_link' AND project_id IN (
            SELECT n.project_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.kind, o.source_type, o.source_id, o.target_type, o.target_id)
                  IS DISTINCT FROM (n.kind, n.source_type, n.source_id, n.target_type, n.target_id));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER working_groups_link_insert AFTER INSERT ON trace_links
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_links_changed();
CREATE TRIGGER working_groups_link_update AFTER UPDATE ON trace_links
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_links_changed();
CREATE TRIGGER working_groups_link_delete AFTER DELETE ON trace_links
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_links_changed();

-- Cases: their plan's case and result groups and the link group of links they are the
-- source of; a case moving to another activity moves between plans.
CREATE FUNCTION working_groups_cases_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM working_groups_bump(COALESCE(jsonb_agg(DISTINCT jsonb_build_object(
            'p', c.project_id, 'k', k.kind, 'g', working_groups_case_plan(c.activity_id))), '[]'))
        FROM new_rows c CROSS JOIN (VALUES ('vv_case'), ('vv_result'), ('trace_link')) k (kind);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE working_groups SET version = version + 1
        WHERE kind IN ('vv_case', 'vv_result', 'trace_link')
          AND project_id IN (SELECT project_id FROM old_rows);
    ELSE
        PERFORM working_groups_bump(COALESCE(jsonb_agg(DISTINCT jsonb_build_object(
            'p', x.project_id, 'k', k.kind, 'g', working_groups_case_plan(x.activity_id))), '[]'))
        FROM (
            SELECT o.project_id, o.activity_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.human_id, o.revision, o.content_hash, o.activity_id)
                  IS DISTINCT FROM (n.human_id, n.revision, n.content_hash, n.activity_id)
            UNION
            SELECT n.project_id, n.activity_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.human_id, o.revision, o.content_hash, o.activity_id)
                  IS DISTINCT FROM (n.human_id, n.revision, n.content_hash, n.activity_id)
        ) x CROSS JOIN (VALUES ('vv_case'), ('vv_result'), ('trace_link')) k (kind);
        UPDATE working_groups SET version = version + 1
        WHERE kind = 'trace_link' AND project_id IN (
            SELECT n.project_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.human_id <> n.human_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER working_groups_case_insert AFTER INSERT ON vv_cases
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_cases_changed();
CREATE TRIGGER working_groups_case_update AFTER UPDATE ON vv_cases
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_cases_changed();
CREATE TRIGGER working_groups_case_delete AFTER DELETE ON vv_cases
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_cases_changed();

-- Latest results: the result group of their case's plan.
CREATE FUNCTION working_groups_latest_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM working_groups_bump(COALESCE(jsonb_agg(DISTINCT jsonb_build_object(
            'p', l.project_id, 'k', 'vv_result', 'g', working_groups_case_plan(c.activity_id))), '[]'))
        FROM old_rows l JOIN vv_cases c ON c.id = l.case_id;
    ELSE
        PERFORM working_groups_bump(COALESCE(jsonb_agg(DISTINCT jsonb_build_object(
            'p', l.project_id, 'k', 'vv_result', 'g', working_groups_case_plan(c.activity_id))), '[]'))
        FROM new_rows l JOIN vv_cases c ON c.id = l.case_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER working_groups_latest_insert AFTER INSERT ON vv_latest
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_latest_changed();
CREATE TRIGGER working_groups_latest_update AFTER UPDATE ON vv_latest
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_latest_changed();
CREATE TRIGGER working_groups_latest_delete AFTER DELETE ON vv_latest
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_latest_changed();

-- An activity moving to another plan moves its cases, their results and their links.
CREATE FUNCTION working_groups_activities_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE working_groups SET version = version + 1
    WHERE kind IN ('vv_case', 'vv_result', 'trace_link') AND project_id IN (
        SELECT p.project_id FROM old_rows o JOIN new_rows n ON n.id = o.id
        JOIN vv_plans p ON p.id IN (o.plan_id, n.plan_id)
        WHERE o.plan_id <> n.plan_id);
    RETURN NULL;
END $$;
CREATE TRIGGER working_groups_activity_update AFTER UPDATE ON vv_activities
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION working_groups_activities_updated();
