#!/usr/bin/env bash
# Operations readiness at scale: a generated project (`opensesa demo --size N --ops-items I
# --milestones M`, default 5,000 readiness items and 200 milestones with about 7,500
# dependencies and 1,000 gating items on a project of N requirements) on SQLite and on
# PostgreSQL, then over HTTP on loopback:
#   - the operations dashboard (timeline, burn-down, blocked and late items, critical paths of
#     every milestone, the dependency diagram), a milestone page (critical path and the
#     diagram of what it waits for) and the items list, under wrk at 1 and 16 connections;
#   - the API dashboard (JSON) and the full dependency diagram (SVG, every node), 5 timed
#     requests each;
# with the server's peak memory (VmHWM) and the generator's time.
#   scripts/bench-operations.sh [N] [items] [milestones] [seconds-per-wrk-run]
#   (needs wrk, curl, PostgreSQL; BENCH_BIN=path skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
items=${2:-5000}
milestones=${3:-200}
secs=${4:-10}
if [ -z "${BENCH_BIN:-}" ]; then
  cargo build --release --locked -q
  bin=$PWD/target/release/opensesa
else
  bin=$BENCH_BIN
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
key="bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLM"
pg_admin=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}

hwm() { awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$1/status"; }

run() {
  local name=$1 url=$2 port=$3
  export OPENSESA_LOG_FORMAT=json DATABASE_URL=$url OPENSESA_SECRET_KEY=$key OPENSESA_DATA_DIR=$work/$name OPENSESA_LISTEN=127.0.0.1:$port
  mkdir -p "$work/$name"
  "$bin" migrate >/dev/null 2>&1
  local gen
  gen=$( { /usr/bin/time -f 'GEN %e s %M KiB' "$bin" demo --no-serve --size "$n" --ops-items "$items" --milestones "$milestones" >"$work/$name.gen" ; } 2>&1 | grep GEN)
  echo "### $name"
  echo
  echo "- generator: $(grep -o 'Generated project.*' "$work/$name.gen" | head -1)"
  echo "- $(grep -o 'Operations: .*' "$work/$name.gen"); whole run ${gen#GEN } (time, peak RSS)"
  "$bin" serve 2>"$work/$name.log" &
  local pid=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
  local base=http://127.0.0.1:$port jar=$work/$name.jar
  curl -fs -o /dev/null -c "$jar" -H "Origin: $base" \
       -d 'email=lead@opensesa.local&password=demo-orbit-lantern-2026' "$base/login"
  local cookie
  cookie=$(awk '$6 == "osa_session" { print $7 }' "$jar")
  local size
  size=$(curl -fs -H "Cookie: osa_session=$cookie" "$base/p/BENCH/operations" | wc -c)
  echo "- server after start: peak RSS $(hwm $pid); dashboard page $(( size / 1024 )) KiB"
  echo
  echo "| request | connections | requests/s | p50 | p99 |"
  echo "|---|---|---|---|---|"
  local ms
  ms=MS-$(printf '%03d' $(( (milestones + 1) / 2 )))
  for spec in "operations dashboard:/p/BENCH/operations" \
              "milestone page ($ms):/p/BENCH/operations/milestones/$ms" \
              "items list (first 500 of $items):/p/BENCH/operations/items"; do
    local label=${spec%%:*} path=${spec#*:}
    curl -fs -o /dev/null -H "Cookie: osa_session=$cookie" "$base$path"
    for c in 1 16; do
      local out
      out=$(wrk -t$(( c < 2 ? 1 : 2 )) -c"$c" -d"${secs}s" --latency -H "Cookie: osa_session=$cookie" "$base$path")
      printf '| %s | %s | %s | %s | %s |\n' "$label" "$c" \
        "$(awk '/Requests\/sec/ { print $2 }' <<<"$out")" "$(awk '$1 == "50%" { print $2 }' <<<"$out")" \
        "$(awk '$1 == "99%" { print $2 }' <<<"$out")"
    done
  done
  echo
  timed() {
    local label=$1 path=$2 runs=$3 times=()
    for _ in $(seq "$runs"); do
      times+=("$(curl -fs -o /dev/null -w '%{time_total}' -H "Cookie: osa_session=$cookie" "$base$path")")
    done
    echo "- $label, $runs runs: $(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median %.0f ms, max %.0f ms", a[int((NR + 1) / 2)] * 1000, a[NR] * 1000 }')"
  }
  timed "GET /api/v1/projects/BENCH/operations/dashboard (JSON)" /api/v1/projects/BENCH/operations/dashboard 5
  timed "GET /p/BENCH/operations/diagram.svg (all $(( items + milestones )) nodes, $(( $(curl -fs -H "Cookie: osa_session=$cookie" "$base/p/BENCH/operations/diagram.svg" | wc -c) / 1024 )) KiB)" /p/BENCH/operations/diagram.svg 5
  echo "- server peak RSS at the end: $(hwm $pid)"
  kill -TERM "$pid"; wait "$pid" || true
  echo
}

run sqlite "sqlite://$work/sqlite/opensesa.sqlite3" 18391
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_ops' -c 'CREATE DATABASE opensesa_bench_ops' >/dev/null
run postgresql "${pg_admin%/*}/opensesa_bench_ops" 18392
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_ops' >/dev/null
