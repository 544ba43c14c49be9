#!/usr/bin/env bash
# Job queue throughput and latency with real worker processes (release build):
#  - PostgreSQL, 1 and 4 workers (concurrency 4 each): no-op jobs per second over N queued jobs;
#  - PostgreSQL enqueue-to-start latency p50/p99 for jobs enqueued one at a time (50/s), with
#    NOTIFY wake-ups and with polling only (default 2 s poll interval);
#  - SQLite (embedded), 1 worker: jobs per second.
# Loopback only; bounded runs. Prints Markdown rows.   scripts/bench-jobs.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
cargo build --release --locked -q
bin=$PWD/target/release/opensesa
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export OPENSESA_SECRET_KEY="bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLM" RUST_LOG=warn OPENSESA_DATA_DIR=$work
pg_admin=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg="${pg_admin%/*}/opensesa_benchjobs"
q() { psql "$pg" -qtAc "$1"; }

pg_reset() {
  psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_benchjobs' -c 'CREATE DATABASE opensesa_benchjobs' 2>/dev/null
  DATABASE_URL=$pg "$bin" migrate >/dev/null 2>&1
}
pg_fill() {
  q "INSERT INTO jobs (id, queue, kind, payload, priority, state, attempts, max_attempts, run_after, created_at, updated_at)
     SELECT gen_random_uuid(), 'default', 'system.ping', '{}', 0, 'pending', 0, 3, now(), now(), now() FROM generate_series(1, $1)"
}
start_workers() { # count, extra args...
  local k=$1; shift
  for _ in $(seq 1 "$k"); do DATABASE_URL=$url "$bin" worker --no-periodic --concurrency 4 "$@" & pids+=($!); done
}
stop_workers() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }

throughput_pg() { # workers
  pg_reset; pg_fill "$n"; url=$pg
  local t0 t1; t0=$(date +%s%N)
  start_workers "$1"
  until [ "$(q "SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'")" -ge "$n" ]; do sleep 0.1; done
  t1=$(date +%s%N); stop_workers
  local rate; rate=$(awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
  echo "| PostgreSQL | $1 × 4 | $n no-op jobs | $rate jobs/s |"
}

latency_pg() { # label, extra worker args
  pg_reset; url=$pg
  start_workers 1 "${@:2}"; sleep 1
  for _ in $(seq 1 300); do
    q "INSERT INTO jobs (id, queue, kind, payload, priority, state, attempts, max_attempts, run_after, created_at, updated_at)
       VALUES (gen_random_uuid(), 'default', 'system.ping', '{}', 0, 'pending', 0, 3, clock_timestamp(), clock_timestamp(), clock_timestamp())" &
    sleep 0.02
  done
  wait $(jobs -p | grep -v -F -x -e "${pids[@]}") 2>/dev/null || true
  until [ "$(q "SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'")" -ge 300 ]; do sleep 0.1; done
  stop_workers
  local r; r=$(q "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) || ' ms | ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1) || ' ms'
                FROM (SELECT extract(epoch FROM started_at - created_at) * 1000 AS ms FROM jobs) t")
  echo "| PostgreSQL | enqueue-to-start, $1 | 300 jobs at 50/s | p50 ${r%% |*} , p99 ${r##*| } |"
}

throughput_sqlite() {
  local db=$work/bench.sqlite3; url="sqlite://$db"
  DATABASE_URL=$url "$bin" migrate >/dev/null 2>&1
  python3 - "$db" "$n" <<'PY'
import sqlite3, sys, uuid, datetime
db, n = sys.argv[1], int(sys.argv[2])
now = datetime.datetime.now(datetime.timezone.utc).isoformat()
c = sqlite3.connect(db)
c.executemany("INSERT INTO jobs (id, queue, kind, payload, priority, state, attempts, max_attempts, run_after, created_at, updated_at) VALUES (?, 'default', 'system.ping', '{}', 0, 'pending', 0, 3, ?, ?, ?)",
              ((uuid.uuid4().bytes, now, now, now) for _ in range(n)))
c.commit()
PY
  local t0 t1; t0=$(date +%s%N)
  start_workers 1
  until [ "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT COUNT(*) FROM jobs WHERE state='succeeded'\").fetchone()[0])" "$db")" -ge "$n" ]; do sleep 0.2; done
  t1=$(date +%s%N); stop_workers
  local rate; rate=$(awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
  echo "| SQLite | 1 × 4 | $n no-op jobs | $rate jobs/s |"
}

echo "| backend | workers × concurrency | load | result |"
echo "|---|---|---|---|"
throughput_pg 1
throughput_pg 4
latency_pg "NOTIFY wake-ups"
latency_pg "polling only (2 s)" --poll-only
throughput_sqlite
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_benchjobs' 2>/dev/null
