-- Background jobs: a transactional queue, worker heartbeats and the periodic schedule.

CREATE TABLE jobs (
    id UUID PRIMARY KEY NOT NULL,
    queue TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload JSONB NOT NULL,
    priority BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'dead', 'discarded')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_after TIMESTAMPTZ NOT NULL,
    dedup_key TEXT,
    locked_by TEXT,
    lease_until TIMESTAMPTZ,
    progress BIGINT,
    progress_message TEXT,
    result JSONB,
    last_error TEXT,
    project_id UUID,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
-- Pending jobs of a queue in claim order (priority, then age): a claim walks this index and
-- stops at the first ready, unlocked job instead of sorting the backlog (with an equality on
-- the queue the planner keeps to it even before the table has statistics).
CREATE INDEX jobs_claim ON jobs (queue, priority DESC, run_after, id) WHERE state = 'pending';
CREATE INDEX jobs_lease ON jobs (state, lease_until);
CREATE INDEX jobs_finished ON jobs (state, finished_at);
-- At most one pending job per deduplication key.
CREATE UNIQUE INDEX jobs_dedup ON jobs (dedup_key) WHERE state = 'pending' AND dedup_key IS NOT NULL;

CREATE TABLE worker_heartbeats (
    id TEXT PRIMARY KEY NOT NULL,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    version TEXT NOT NULL,
    queues JSONB NOT NULL,
    concurrency BIGINT NOT NULL,
    in_flight BIGINT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    last_beat_at TIMESTAMPTZ NOT NULL,
    stopped_at TIMESTAMPTZ
);

CREATE TABLE periodic_schedule (
    kind TEXT PRIMARY KEY NOT NULL,
    last_period BIGINT NOT NULL
);

-- Wake listening workers (LISTEN opensesa_jobs) when a job becomes pending; delivered on commit.
CREATE FUNCTION opensesa_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('opensesa_jobs', NEW.queue);
    RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION opensesa_jobs_notify();
