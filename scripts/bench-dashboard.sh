#!/usr/bin/env bash
# HTTP load run: the authenticated project dashboard (/p/SAT/ of the demo data) under wrk, on
# SQLite and on PostgreSQL, at 1 and 64 connections; also `serve` start-up time on an existing
# database and the server's peak memory. Loopback only; bounded runs. Prints a Markdown table.
#   scripts/bench-dashboard.sh [seconds-per-run]      (needs wrk, curl, and PostgreSQL locally)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
cargo build --release --locked -q
bin=$PWD/target/release/opensesa
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
key="bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLM"
pg_admin=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}

run() {
  local name=$1 url=$2 port=$3
  export OPENSESA_LOG_FORMAT=json DATABASE_URL=$url OPENSESA_SECRET_KEY=$key OPENSESA_DATA_DIR=$work/$name OPENSESA_LISTEN=127.0.0.1:$port
  mkdir -p "$work/$name"
  "$bin" migrate >/dev/null
  "$bin" demo --no-serve >/dev/null
  local t0 t1
  t0=$(date +%s%N)
  "$bin" serve 2>"$work/$name.log" &
  local pid=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.005; done
  t1=$(date +%s%N)
  local startup_ms=$(( (t1 - t0) / 1000000 ))
  local internal_ms
  internal_ms=$(grep -o '"startup_ms":[0-9]*' "$work/$name.log" | head -1 | cut -d: -f2 || true)
  local jar=$work/$name.jar
  curl -fs -o /dev/null -c "$jar" -H "Origin: http://127.0.0.1:$port" \
       -d 'email=lead@opensesa.local&password=demo-orbit-lantern-2026' "http://127.0.0.1:$port/login"
  local cookie
  cookie=$(awk '$6 == "osa_session" { print $7 }' "$jar")
  curl -fs -o /dev/null -H "Cookie: osa_session=$cookie" "http://127.0.0.1:$port/p/SAT/"
  for c in 1 64; do
    local threads=$(( c < 2 ? 1 : 2 ))
    local out
    out=$(wrk -t"$threads" -c"$c" -d"${secs}s" --latency -H "Cookie: osa_session=$cookie" "http://127.0.0.1:$port/p/SAT/")
    local rps p50 p99 non2xx
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    non2xx=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
    printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$c" "$rps" "$p50" "$p99" "${non2xx:-0}"
  done
  local hwm
  hwm=$(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  echo "| $name | start-up to first /healthz: ${startup_ms} ms (in-process: ${internal_ms:-?} ms); peak RSS $hwm | | | | |"
}

echo "| backend | connections | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
run sqlite "sqlite://$work/sqlite/opensesa.sqlite3" 18181
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench' -c 'CREATE DATABASE opensesa_bench' >/dev/null
run postgresql "${pg_admin%/*}/opensesa_bench" 18182
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench' >/dev/null
