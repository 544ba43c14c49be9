-- Background jobs: a transactional queue, worker heartbeats and the periodic schedule.

CREATE TABLE jobs (
    id BLOB PRIMARY KEY NOT NULL,
    queue TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    priority BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'dead', 'discarded')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_after TEXT NOT NULL,
    dedup_key TEXT,
    locked_by TEXT,
    lease_until TEXT,
    progress BIGINT,
    progress_message TEXT,
    result TEXT,
    last_error TEXT,
    project_id BLOB,
    created_by BLOB,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    updated_at TEXT NOT NULL
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
    queues TEXT NOT NULL,
    concurrency BIGINT NOT NULL,
    in_flight BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    last_beat_at TEXT NOT NULL,
    stopped_at TEXT
);

CREATE TABLE periodic_schedule (
    kind TEXT PRIMARY KEY NOT NULL,
    last_period BIGINT NOT NULL
);

-- (PostgreSQL wakes workers with a NOTIFY trigger here; SQLite runs its worker in-process and
-- wakes it directly after a commit that enqueued jobs.)
