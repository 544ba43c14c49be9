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
    project_id BLOB PRIMARY KEY NOT NULL,
    epoch BLOB NOT NULL,
    version BIGINT NOT NULL
);

INSERT INTO fact_versions (project_id, epoch, version)
SELECT id, randomblob(16), 1 FROM projects;

-- The dashboard counts cases by status.
CREATE INDEX vv_cases_project_status ON vv_cases (project_id, status);

CREATE TRIGGER fact_versions_req_modules_insert AFTER INSERT ON req_modules BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_req_modules_update AFTER UPDATE ON req_modules BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_req_modules_delete AFTER DELETE ON req_modules BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (OLD.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_requirements_insert AFTER INSERT ON requirements BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_requirements_update AFTER UPDATE ON requirements BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_requirements_delete AFTER DELETE ON requirements BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (OLD.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_trace_links_insert AFTER INSERT ON trace_links BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_trace_links_update AFTER UPDATE ON trace_links BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_trace_links_delete AFTER DELETE ON trace_links BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (OLD.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_cases_insert AFTER INSERT ON vv_cases BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_cases_update AFTER UPDATE ON vv_cases BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_cases_delete AFTER DELETE ON vv_cases BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (OLD.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_latest_insert AFTER INSERT ON vv_latest BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_latest_update AFTER UPDATE ON vv_latest BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_latest_delete AFTER DELETE ON vv_latest BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (OLD.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_daily_insert AFTER INSERT ON vv_daily BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_daily_update AFTER UPDATE ON vv_daily BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_daily_delete AFTER DELETE ON vv_daily BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (OLD.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_defects_insert AFTER INSERT ON vv_defects BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_defects_update AFTER UPDATE ON vv_defects BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (NEW.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER fact_versions_vv_defects_delete AFTER DELETE ON vv_defects BEGIN
    INSERT INTO fact_versions (project_id, epoch, version) VALUES (OLD.project_id, randomblob(16), 1)
    ON CONFLICT (project_id) DO UPDATE SET version = version + 1;
END;
