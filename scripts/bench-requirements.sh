#!/usr/bin/env bash
# Requirements at scale: a generated project (`opensesa demo --size N`, default 100,000
# requirements and ~150,000 links) on SQLite and on PostgreSQL, then over HTTP on loopback:
#   - the module table page (50 rows, one filter, sorted) under wrk at 1 and 16 connections;
#   - full-text search and the requirement page under wrk;
#   - the coverage page and the RVTM (whole-project computation), 5 timed requests each;
#   - suspect propagation: editing the requirement with 1,000 descendants (API PATCH);
#   - a 10,000-row CSV import and a 10,000-object ReqIF import: upload + dry run, then apply;
# with the server's peak memory (VmHWM) after each step and the generator's time and memory.
#   scripts/bench-requirements.sh [N] [seconds-per-wrk-run]   (needs wrk, curl, python3, PostgreSQL)
# BENCH_ONLY=imports skips the page, coverage and propagation steps (the project of N
# requirements is still generated: imports plan against it); BENCH_RUNS=k repeats each
# backend's run k times, each on a fresh database, for medians; BENCH_BIN=path runs that
# binary instead of building one (to compare two builds).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
secs=${2:-10}
only=${BENCH_ONLY:-all}
runs=${BENCH_RUNS:-1}
if [ -n "${BENCH_BIN:-}" ]; then
  bin=$(realpath "$BENCH_BIN")
else
  cargo build --release --locked -q
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/opensesa
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
key="bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLM"
pg_admin=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}

# Input files made once: a 10,000-row CSV for a fresh module, and a 10,000-object ReqIF file
# exported from a generated 10,000-requirement project.
python3 - "$work/import.csv" <<'PY'
import csv, sys
words = "attitude power thermal telemetry command orbit sensor actuator battery radio".split()
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "title", "statement", "rationale", "type", "priority", "verification", "owner", "tags"])
    for i in range(10000):
        a, b = words[i % 10], words[(i * 7) % 10]
        w.writerow(["", f"Imported {a} {i}", f"The {a} subsystem shall report {b} state {i} within {i % 50 + 1} s.",
                    "Operations need it.", "functional", "medium", "test", "Import team", f"{a},{b}"])
PY

hwm() { awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$1/status"; }
ms() { awk -v t="$1" 'BEGIN { printf "%.0f ms", t * 1000 }'; }

run() {
  local name=$1 url=$2 port=$3
  export OPENSESA_LOG_FORMAT=json DATABASE_URL=$url OPENSESA_SECRET_KEY=$key OPENSESA_DATA_DIR=$work/$name OPENSESA_LISTEN=127.0.0.1:$port
  mkdir -p "$work/$name"
  "$bin" migrate >/dev/null
  local gen
  gen=$( { /usr/bin/time -f 'GEN %e s %M KiB' "$bin" demo --no-serve --size "$n" >"$work/$name.gen" ; } 2>&1 | grep GEN)
  local hub
  hub=$(grep -o '[A-Z0-9]*-[0-9]* has [0-9]* descendants' "$work/$name.gen" | awk '{print $1}')
  echo "### $name"
  echo
  echo "- generator (N=$n): $(grep -o 'Generated project.*' "$work/$name.gen"); wall ${gen#GEN } (time, peak RSS)"
  "$bin" serve 2>"$work/$name.log" &
  local pid=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
  local base=http://127.0.0.1:$port jar=$work/$name.jar
  curl -fs -o /dev/null -c "$jar" -H "Origin: $base" \
       -d 'email=lead@opensesa.local&password=demo-orbit-lantern-2026' "$base/login"
  local cookie
  cookie=$(awk '$6 == "osa_session" { print $7 }' "$jar")
  local csrf
  csrf=$(curl -fs -H "Cookie: osa_session=$cookie" "$base/p/BENCH/requirements" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"//')
  echo "- server after start: peak RSS $(hwm $pid)"
  if [ "$only" != imports ]; then
  echo
  echo "| request | connections | requests/s | p50 | p99 |"
  echo "|---|---|---|---|---|"
  for spec in "table:/p/BENCH/requirements/m/SS01?status=draft&sort=title" \
              "search:/p/BENCH/requirements/search?q=telemetry+battery" \
              "requirement page:/p/BENCH/requirements/r/SS01-010"; do
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
  # Coverage and the RVTM are kept per project until its facts change: "cold" is the first
  # request after an edit (the whole-project computation), "warm" a repeat view.
  for path in /p/BENCH/trace /p/BENCH/trace/rvtm; do
    local cold=() warm=()
    for i in 1 2 3 4 5; do
      curl -fs -o /dev/null -X PATCH -H "Cookie: osa_session=$cookie" -H "X-CSRF-Token: $csrf" -H "Origin: $base" \
           -H 'Content-Type: application/json' -d "{\"title\":\"Benchmark edit $i\"}" "$base/api/v1/projects/BENCH/requirements/SS01-011"
      cold+=("$(curl -fs -o /dev/null -w '%{time_total}' -H "Cookie: osa_session=$cookie" "$base$path")")
      warm+=("$(curl -fs -o /dev/null -w '%{time_total}' -H "Cookie: osa_session=$cookie" "$base$path")")
    done
    echo "- GET $path, 5 runs: after an edit (whole-project computation) $(printf '%s\n' "${cold[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median %.0f ms, max %.0f ms", a[3] * 1000, a[5] * 1000 }'); repeat view $(printf '%s\n' "${warm[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median %.1f ms, max %.1f ms", a[3] * 1000, a[5] * 1000 }')"
  done
  fi
  local api="$base/api/v1/projects/BENCH"
  local t
  if [ "$only" != imports ]; then
  t=$(curl -fs -o /dev/null -w '%{time_total}' -X PATCH -H "Cookie: osa_session=$cookie" -H "X-CSRF-Token: $csrf" \
      -H "Origin: $base" -H 'Content-Type: application/json' \
      -d '{"statement":"The system shall hold attitude within 0.05 deg (tightened for the benchmark)."}' "$api/requirements/$hub")
  local suspect
  suspect=$(curl -fs -H "Cookie: osa_session=$cookie" "$api/links?suspect=true&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  echo "- suspect propagation: PATCH $hub (1,000 descendants) $(ms "$t"); suspect links afterwards: $suspect; peak RSS $(hwm $pid)"
  fi
  # CSV import into a fresh module: upload (parse + dry run), then apply.
  curl -fs -o /dev/null -X POST -H "Cookie: osa_session=$cookie" -H "X-CSRF-Token: $csrf" -H "Origin: $base" \
       -H 'Content-Type: application/json' -d '{"prefix":"IMP","name":"Imported"}' "$api/modules"
  local up report
  up=$(curl -s -o /dev/null -w '%{time_total} %{redirect_url}' -H "Cookie: osa_session=$cookie" -H "Origin: $base" \
       -F "csrf_token=$csrf" -F module=IMP -F "file=@$work/import.csv;type=text/csv" "$base/p/BENCH/requirements/import")
  report=${up#* }
  t=$(curl -s -o /dev/null -w '%{time_total}' -H "Cookie: osa_session=$cookie" -H "Origin: $base" \
       -d "csrf_token=$csrf" "$report/apply")
  echo "- CSV import of 10,000 rows: upload and dry run $(ms "${up%% *}"), apply $(ms "$t"); peak RSS $(hwm $pid)"
  # ReqIF import of a 10,000-object file (one new module per specification).
  if [ -s "$work/bench10k.reqif" ]; then
    up=$(curl -s -o /dev/null -w '%{time_total} %{redirect_url}' -H "Cookie: osa_session=$cookie" -H "Origin: $base" \
         -F "csrf_token=$csrf" -F module= -F "file=@$work/bench10k.reqif" "$base/p/BENCH/requirements/import")
    report=${up#* }
    t=$(curl -s -o /dev/null -w '%{time_total}' -H "Cookie: osa_session=$cookie" -H "Origin: $base" \
         -d "csrf_token=$csrf" "$report/apply")
    echo "- ReqIF import of $(grep -c '<SPEC-OBJECT ' "$work/bench10k.reqif") objects ($(du -m "$work/bench10k.reqif" | cut -f1) MB): upload and dry run $(ms "${up%% *}"), apply $(ms "$t"); peak RSS $(hwm $pid)"
  fi
  kill -TERM "$pid"; wait "$pid" || true
  echo
}

# The 10,000-object ReqIF file: generate a 10,000-requirement project and export it.
(
  export OPENSESA_LOG_FORMAT=json DATABASE_URL=sqlite://$work/src.sqlite3 OPENSESA_SECRET_KEY=$key OPENSESA_DATA_DIR=$work/src OPENSESA_LISTEN=127.0.0.1:18190
  mkdir -p "$work/src"
  "$bin" migrate >/dev/null
  "$bin" demo --no-serve --size 10000 --project RQSRC >/dev/null
  "$bin" serve 2>/dev/null &
  pid=$!
  until curl -fs http://127.0.0.1:18190/healthz >/dev/null; do sleep 0.05; done
  curl -fs -o /dev/null -c "$work/src.jar" -H "Origin: http://127.0.0.1:18190" \
       -d 'email=lead@opensesa.local&password=demo-orbit-lantern-2026' http://127.0.0.1:18190/login
  curl -fs -b "$work/src.jar" -o "$work/bench10k.reqif" http://127.0.0.1:18190/p/RQSRC/requirements/export.reqif
  kill -TERM "$pid"; wait "$pid" || true
)

for r in $(seq "$runs"); do
  rm -rf "$work/sqlite"
  run sqlite "sqlite://$work/sqlite/opensesa.sqlite3" 18191
done
for r in $(seq "$runs"); do
  psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_req' -c 'CREATE DATABASE opensesa_bench_req' >/dev/null
  run postgresql "${pg_admin%/*}/opensesa_bench_req" 18192
done
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_req' >/dev/null
