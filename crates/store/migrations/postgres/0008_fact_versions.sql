-- The version of a project's requirement, trace and V&V facts, so that pages computed from
-- all of them (the V&V dashboard, coverage and the RVTM) can be reused until something they
-- read changes (docs/architecture.md, "Fact versions").
--
-- Every insert, update and delete on the tables those pages read bumps the project's version
-- (triggers below, so no writer can forget). A reader takes (epoch, version) before reading
-- and keeps its result under that key. `epoch` is random, set when the row is created: a
-- database rebuilt from a backup starts new rows, so a key kept by a running process from
-- before cannot match by accident. No foreign key and never dumped: the row outlives a wipe,
-- so its version only grows.

CREATE TABLE fact_versions (
    project_id UUID PRIMARY KEY NOT NULL,
    epoch UUID NOT NULL,
    version BIGINT NOT NULL,
    bumped_by XID8 DEFAULT pg_current_xact_id()
);

INSERT INTO fact_versions (project_id, epoch, version)
SELECT id, gen_random_uuid(), 1 FROM projects;

CREATE INDEX vv_cases_project_status ON vv_cases (project_id, status);

-- One bump per transaction is enough (readers see committed states only), and more is
-- harmful here: every update of a row in one transaction adds a row version that the next
-- update of it must walk past, so a transaction of n statements that each bump the same row
-- costs O(n²) — the generator's 50,000 cases took 344 s instead of 63 s. This row trigger
-- skips a second bump of a row by the same transaction, for these counters and for the
-- working groups' (migration 0007).
CREATE FUNCTION bump_once_per_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.bumped_by = pg_current_xact_id() THEN
        RETURN NULL;
    END IF;
    NEW.bumped_by := pg_current_xact_id();
    RETURN NEW;
END $$;
CREATE TRIGGER fact_versions_once BEFORE UPDATE ON fact_versions
FOR EACH ROW EXECUTE FUNCTION bump_once_per_transaction();
ALTER TABLE working_groups ADD COLUMN bumped_by XID8 DEFAULT pg_current_xact_id();
CREATE TRIGGER working_groups_once BEFORE UPDATE ON working_groups
FOR EACH ROW EXECUTE FUNCTION bump_once_per_transaction();

-- Statement-level: one bump per project per statement, however many rows it wrote. Projects
-- in a stable order, so two statements bumping several projects cannot deadlock.
CREATE FUNCTION fact_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO fact_versions AS f (project_id, epoch, version)
        SELECT p, gen_random_uuid(), 1 FROM (SELECT DISTINCT project_id AS p FROM old_rows) x ORDER BY p
        ON CONFLICT (project_id) DO UPDATE SET version = f.version + 1;
    ELSE
        INSERT INTO fact_versions AS f (project_id, epoch, version)
        SELECT p, gen_random_uuid(), 1 FROM (SELECT DISTINCT project_id AS p FROM new_rows) x ORDER BY p
        ON CONFLICT (project_id) DO UPDATE SET version = f.version + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER fact_versions_req_modules_insert AFTER INSERT ON req_modules
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_req_modules_update AFTER UPDATE ON req_modules
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_req_modules_delete AFTER DELETE ON req_modules
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();

CREATE TRIGGER fact_versions_requirements_insert AFTER INSERT ON requirements
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_requirements_update AFTER UPDATE ON requirements
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_requirements_delete AFTER DELETE ON requirements
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();

CREATE TRIGGER fact_versions_trace_links_insert AFTER INSERT ON trace_links
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_trace_links_update AFTER UPDATE ON trace_links
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_trace_links_delete AFTER DELETE ON trace_links
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();

CREATE TRIGGER fact_versions_vv_cases_insert AFTER INSERT ON vv_cases
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_vv_cases_update AFTER UPDATE ON vv_cases
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_vv_cases_delete AFTER DELETE ON vv_cases
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();

CREATE TRIGGER fact_versions_vv_latest_insert AFTER INSERT ON vv_latest
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_vv_latest_update AFTER UPDATE ON vv_latest
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_vv_latest_delete AFTER DELETE ON vv_latest
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();

CREATE TRIGGER fact_versions_vv_daily_insert AFTER INSERT ON vv_daily
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_vv_daily_update AFTER UPDATE ON vv_daily
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_vv_daily_delete AFTER DELETE ON vv_daily
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();

CREATE TRIGGER fact_versions_vv_defects_insert AFTER INSERT ON vv_defects
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_vv_defects_update AFTER UPDATE ON vv_defects
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
CREATE TRIGGER fact_versions_vv_defects_delete AFTER DELETE ON vv_defects
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fact_versions_bump();
