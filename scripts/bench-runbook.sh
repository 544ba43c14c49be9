#!/usr/bin/env bash
# Time and peak memory of the runbook's commands on a database holding 100,000
# requirements' worth of rows (generated: 100,000 audit events and 100,000 revisions with
# realistic JSON), on SQLite and PostgreSQL: backup (with --verify separately), restore into an
# empty database, check --deploy, and verify against a running server.
#   scripts/bench-runbook.sh [rows]          (needs /usr/bin/time, psql, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
cargo build --release --locked -q
bin=$PWD/target/release/opensesa
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export OPENSESA_SECRET_KEY="bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLM" RUST_LOG=warn
pg_admin=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}

measure() { # label, command...
  local label=$1; shift
  local code=0
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || code=$?
  read -r secs kb < <(tail -n 1 "$work/time")
  printf '| %s | %s s | %s MiB | exit %s |\n' "$label" "$secs" "$(awk -v kb="$kb" 'BEGIN { printf "%.0f", kb / 1024 }')" "$code"
}

fill_sql() { # the INSERTs, in the dialect of $1
  local now_expr=$2 uuid_expr=$3 series=$4
  cat <<SQL
INSERT INTO projects (id, code, name, description, status, revision, created_at, updated_at)
  VALUES ($uuid_expr, 'BENCH', 'Benchmark', '', 'active', 1, $now_expr, $now_expr);
INSERT INTO audit_events (id, at, actor, artefact_type, artefact_id, action, changes)
  SELECT $uuid_expr, $now_expr, 'bench@example.org', 'requirement', 'SYS-' || n, 'update',
         ('[{"field":"statement","before":"The system shall do ' || n || '.","after":"The system shall do ' || n || ' within 2 s."}]')::jsonb
  FROM $series;
INSERT INTO revisions (id, artefact_type, artefact_id, number, data, content_hash, at)
  SELECT $uuid_expr, 'requirement', 'SYS-' || n, 1,
         ('{"title":"Requirement ' || n || '","statement":"The system shall do ' || n || ' within 2 s.","priority":"high","methods":["test"]}')::jsonb,
         'deadbeef', $now_expr
  FROM $series;
SQL
}

run_backend() { # name url
  local name=$1 url=$2
  export DATABASE_URL=$url OPENSESA_DATA_DIR=$work/$name OPENSESA_STATIC_ROOT=$work/$name-static
  mkdir -p "$OPENSESA_DATA_DIR" "$OPENSESA_STATIC_ROOT"
  "$bin" migrate >/dev/null 2>&1
  if [ "$name" = sqlite ]; then
    python3 - "$work/sqlite/db.sqlite3" "$rows" <<'PY'
import sqlite3, sys, uuid, datetime, json
db, n = sys.argv[1], int(sys.argv[2])
now = datetime.datetime.now(datetime.timezone.utc).isoformat()
c = sqlite3.connect(db)
c.execute("INSERT INTO projects (id, code, name, description, status, revision, created_at, updated_at) VALUES (?, 'BENCH', 'Benchmark', '', 'active', 1, ?, ?)", (uuid.uuid4().bytes, now, now))
c.executemany("INSERT INTO audit_events (id, at, actor, artefact_type, artefact_id, action, changes) VALUES (?, ?, 'bench@example.org', 'requirement', ?, 'update', ?)",
  ((uuid.uuid4().bytes, now, f"SYS-{i}", json.dumps([{"field": "statement", "before": f"The system shall do {i}.", "after": f"The system shall do {i} within 2 s."}])) for i in range(n)))
c.executemany("INSERT INTO revisions (id, artefact_type, artefact_id, number, data, content_hash, at) VALUES (?, 'requirement', ?, 1, ?, 'deadbeef', ?)",
  ((uuid.uuid4().bytes, f"SYS-{i}", json.dumps({"title": f"Requirement {i}", "statement": f"The system shall do {i} within 2 s.", "priority": "high", "methods": ["test"]}), now) for i in range(n)))
c.commit()
PY
  else
    fill_sql pg "now()" "gen_random_uuid()" "generate_series(1, $rows) AS n" | psql "$url" -q
  fi
  "$bin" collectstatic --noinput >/dev/null
  measure "$name: backup ($((rows * 2)) rows)" "$bin" backup --out "$work/$name.tar.gz"
  echo "| $name: archive size | $(du -h "$work/$name.tar.gz" | cut -f1) | | |"
  measure "$name: backup --verify" "$bin" backup --verify --out "$work/$name-v.tar.gz"
  OPENSESA_ALLOWED_HOSTS=127.0.0.1 OPENSESA_PUBLIC_URL=http://127.0.0.1:18190 measure "$name: check --deploy" "$bin" check --deploy
  # Restore into an empty database of the same backend.
  if [ "$name" = sqlite ]; then
    DATABASE_URL="sqlite://$work/sqlite/restored.sqlite3" measure "$name: restore into an empty database" "$bin" restore "$work/$name.tar.gz"
  else
    psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_restore' -c 'CREATE DATABASE opensesa_bench_restore' 2>/dev/null
    DATABASE_URL="${pg_admin%/*}/opensesa_bench_restore" measure "$name: restore into an empty database" "$bin" restore "$work/$name.tar.gz"
    psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_restore' 2>/dev/null
  fi
  # verify against a running server (no proxy), with the demo data.
  "$bin" demo --no-serve >/dev/null 2>&1
  local port=18190
  OPENSESA_LISTEN=127.0.0.1:$port OPENSESA_ALLOWED_HOSTS=127.0.0.1 "$bin" serve --worker >/dev/null 2>&1 &
  local pid=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
  OPENSESA_VERIFY_EMAIL=admin@opensesa.local OPENSESA_VERIFY_PASSWORD=demo-orbit-lantern-2026 \
    measure "$name: verify (all steps, job round trip)" "$bin" verify --url "http://127.0.0.1:$port"
  kill -TERM "$pid"; wait "$pid" || true
}

echo "| command | wall time | peak RSS | result |"
echo "|---|---|---|---|"
run_backend sqlite "sqlite://$work/sqlite/db.sqlite3"
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_rb' -c 'CREATE DATABASE opensesa_bench_rb' 2>/dev/null
run_backend postgresql "${pg_admin%/*}/opensesa_bench_rb"
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_rb' 2>/dev/null
