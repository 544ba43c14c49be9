-- The working state as baseline groups, kept warm so that freezing a baseline and comparing
-- one with the working state read only what changed (docs/baselines.md, "Working groups").
--
-- 1. A requirement row carries the content hash of its current revision (written with the
--    revision, in the same transaction), so reading the working state needs no join with the
--    revisions table.
-- 2. working_groups: one row per (project, kind, container) group of the working state. Every
--    write that can change a group's items bumps its `version` (triggers below, so no writer
--    can forget); a reader that computed the group from a snapshot stores its body and hash
--    with the version it saw, and only if the version is still that one. A group is clean
--    when hashed_version = version. It is a cache: never dumped, rebuilt from the rows.

ALTER TABLE requirements ADD COLUMN content_hash TEXT;
UPDATE requirements SET content_hash = (
    SELECT r.content_hash FROM revisions r
    WHERE r.artefact_type = 'requirement' AND r.number = requirements.revision
      AND r.artefact_id = lower(substr(hex(requirements.id), 1, 8) || '-' || substr(hex(requirements.id), 9, 4)
          || '-' || substr(hex(requirements.id), 13, 4) || '-' || substr(hex(requirements.id), 17, 4)
          || '-' || substr(hex(requirements.id), 21))
);

CREATE TABLE working_groups (
    project_id BLOB NOT NULL REFERENCES projects (id),
    kind TEXT NOT NULL,
    group_id BLOB NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind, group_id)
);

-- What a reader computed, with the version it computed it at; clean when that is the group's
-- version now. Apart from working_groups so that a version bump (on every write) does not
-- rewrite a body of hundreds of kilobytes.
CREATE TABLE working_group_cache (
    project_id BLOB NOT NULL REFERENCES projects (id),
    kind TEXT NOT NULL,
    group_id BLOB NOT NULL,
    hashed_version BIGINT NOT NULL,
    hash TEXT NOT NULL,
    items BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (project_id, kind, group_id)
);

-- Every non-empty group of existing data starts dirty.
INSERT INTO working_groups (project_id, kind, group_id, version)
SELECT DISTINCT project_id, 'requirement', module_id, 1 FROM requirements;
INSERT INTO working_groups (project_id, kind, group_id, version)
SELECT DISTINCT project_id, 'trace_link', module_id, 1 FROM requirements;
INSERT INTO working_groups (project_id, kind, group_id, version)
SELECT DISTINCT c.project_id, k.kind, COALESCE(a.plan_id, X'00000000000000000000000000000000'), 1
FROM vv_cases c LEFT JOIN vv_activities a ON a.id = c.activity_id
CROSS JOIN (SELECT 'vv_case' AS kind UNION ALL SELECT 'vv_result' UNION ALL SELECT 'trace_link') k
WHERE true
ON CONFLICT DO NOTHING;

-- Requirements: their module's requirement group; a move or a new human id also changes
-- link labels and link groups anywhere in the project.
CREATE TRIGGER working_groups_requirement_insert AFTER INSERT ON requirements BEGIN
    INSERT INTO working_groups (project_id, kind, group_id, version)
    VALUES (NEW.project_id, 'requirement', NEW.module_id, 1)
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER working_groups_requirement_update
AFTER UPDATE OF human_id, module_id, parent_id, revision, content_hash ON requirements
WHEN OLD.human_id IS NOT NEW.human_id OR OLD.module_id IS NOT NEW.module_id
  OR OLD.parent_id IS NOT NEW.parent_id OR OLD.revision IS NOT NEW.revision
  OR OLD.content_hash IS NOT NEW.content_hash
BEGIN
    INSERT INTO working_groups (project_id, kind, group_id, version)
    VALUES (OLD.project_id, 'requirement', OLD.module_id, 1)
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
    INSERT INTO working_groups (project_id, kind, group_id, version)
    VALUES (NEW.project_id, 'requirement', NEW.module_id, 1)
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
    INSERT INTO working_groups (project_id, kind, group_id, version)
    SELECT NEW.project_id, 'trace_link', NEW.module_id, 1
    WHERE OLD.module_id IS NOT NEW.module_id OR OLD.human_id IS NOT NEW.human_id
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
    UPDATE working_groups SET version = version + 1
    WHERE project_id = NEW.project_id AND kind = 'trace_link'
      AND (OLD.module_id IS NOT NEW.module_id OR OLD.human_id IS NOT NEW.human_id);
END;

CREATE TRIGGER working_groups_requirement_delete AFTER DELETE ON requirements BEGIN
    INSERT INTO working_groups (project_id, kind, group_id, version)
    VALUES (OLD.project_id, 'requirement', OLD.module_id, 1)
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
    UPDATE working_groups SET version = version + 1
    WHERE project_id = OLD.project_id AND kind = 'trace_link';
END;

-- Links: the link group of their source's container (a requirement's module, a case's plan).
CREATE TRIGGER working_groups_link_insert AFTER INSERT ON trace_links BEGIN
    INSERT INTO working_groups (project_id, kind, group_id, version)
    SELECT NEW.project_id, 'trace_link', r.module_id, 1 FROM requirements r WHERE r.id = NEW.source_id
    UNION ALL
    SELECT NEW.project_id, 'trace_link', COALESCE(a.plan_id, X'00000000000000000000000000000000'), 1
    FROM vv_cases c LEFT JOIN vv_activities a ON a.id = c.activity_id WHERE c.id = NEW.source_id
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER working_groups_link_delete AFTER DELETE ON trace_links BEGIN
    INSERT INTO working_groups (project_id, kind, group_id, version)
    SELECT OLD.project_id, 'trace_link', r.module_id, 1 FROM requirements r WHERE r.id = OLD.source_id
    UNION ALL
    SELECT OLD.project_id, 'trace_link', COALESCE(a.plan_id, X'00000000000000000000000000000000'), 1
    FROM vv_cases c LEFT JOIN vv_activities a ON a.id = c.activity_id WHERE c.id = OLD.source_id
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER working_groups_link_update
AFTER UPDATE OF kind, source_type, source_id, target_type, target_id ON trace_links
WHEN OLD.kind IS NOT NEW.kind OR OLD.source_type IS NOT NEW.source_type
  OR OLD.source_id IS NOT NEW.source_id OR OLD.target_type IS NOT NEW.target_type
  OR OLD.target_id IS NOT NEW.target_id
BEGIN
    UPDATE working_groups SET version = version + 1
    WHERE project_id = NEW.project_id AND kind = 'trace_link';
END;

-- Cases: their plan's case and result groups and the link group of links they are the
-- source of; a case moving to another activity moves between plans.
CREATE TRIGGER working_groups_case_insert AFTER INSERT ON vv_cases BEGIN
    INSERT INTO working_groups (project_id, kind, group_id, version)
    SELECT NEW.project_id, k.kind,
           COALESCE((SELECT plan_id FROM vv_activities WHERE id = NEW.activity_id), X'00000000000000000000000000000000'), 1
    FROM (SELECT 'vv_case' AS kind UNION ALL SELECT 'vv_result' UNION ALL SELECT 'trace_link') k
    WHERE true
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER working_groups_case_update
AFTER UPDATE OF human_id, revision, content_hash, activity_id ON vv_cases
WHEN OLD.human_id IS NOT NEW.human_id OR OLD.revision IS NOT NEW.revision
  OR OLD.content_hash IS NOT NEW.content_hash OR OLD.activity_id IS NOT NEW.activity_id
BEGIN
    INSERT INTO working_groups (project_id, kind, group_id, version)
    SELECT NEW.project_id, k.kind, g.plan, 1
    FROM (SELECT 'vv_case' AS kind UNION ALL SELECT 'vv_result' UNION ALL SELECT 'trace_link') k
    CROSS JOIN (
        SELECT COALESCE((SELECT plan_id FROM vv_activities WHERE id = OLD.activity_id), X'00000000000000000000000000000000') AS plan
        UNION
        SELECT COALESCE((SELECT plan_id FROM vv_activities WHERE id = NEW.activity_id), X'00000000000000000000000000000000')
    ) g
    WHERE true
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
    UPDATE working_groups SET version = version + 1
    WHERE project_id = NEW.project_id AND kind = 'trace_link' AND OLD.human_id IS NOT NEW.human_id;
END;

CREATE TRIGGER working_groups_case_delete AFTER DELETE ON vv_cases BEGIN
    UPDATE working_groups SET version = version + 1
    WHERE project_id = OLD.project_id AND kind IN ('vv_case', 'vv_result', 'trace_link');
END;

-- Latest results: the result group of their case's plan.
CREATE TRIGGER working_groups_latest_insert AFTER INSERT ON vv_latest BEGIN
    INSERT INTO working_groups (project_id, kind, group_id, version)
    SELECT NEW.project_id, 'vv_result', COALESCE(a.plan_id, X'00000000000000000000000000000000'), 1
    FROM vv_cases c LEFT JOIN vv_activities a ON a.id = c.activity_id WHERE c.id = NEW.case_id
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER working_groups_latest_update AFTER UPDATE ON vv_latest BEGIN
    INSERT INTO working_groups (project_id, kind, group_id, version)
    SELECT NEW.project_id, 'vv_result', COALESCE(a.plan_id, X'00000000000000000000000000000000'), 1
    FROM vv_cases c LEFT JOIN vv_activities a ON a.id = c.activity_id WHERE c.id IN (OLD.case_id, NEW.case_id)
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER working_groups_latest_delete AFTER DELETE ON vv_latest BEGIN
    INSERT INTO working_groups (project_id, kind, group_id, version)
    SELECT OLD.project_id, 'vv_result', COALESCE(a.plan_id, X'00000000000000000000000000000000'), 1
    FROM vv_cases c LEFT JOIN vv_activities a ON a.id = c.activity_id WHERE c.id = OLD.case_id
    ON CONFLICT (project_id, kind, group_id) DO UPDATE SET version = version + 1;
END;

-- An activity moving to another plan moves its cases, their results and their links.
CREATE TRIGGER working_groups_activity_update AFTER UPDATE OF plan_id ON vv_activities
WHEN OLD.plan_id IS NOT NEW.plan_id
BEGIN
    UPDATE working_groups SET version = version + 1
    WHERE kind IN ('vv_case', 'vv_result', 'trace_link')
      AND project_id IN (SELECT project_id FROM vv_plans WHERE id IN (OLD.plan_id, NEW.plan_id));
END;
