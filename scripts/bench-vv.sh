#!/usr/bin/env bash
# V&V at scale: a generated project (`opensesa demo --size N --cases C --results R`, default
# 100,000 requirements, 50,000 cases, 500,000 results) on SQLite and on PostgreSQL, then over
# HTTP on loopback:
#   - the V&V dashboard, a plan page (VP-001, 5,000 cases) and a case page under wrk at 1 and
#     16 connections;
#   - the RVTM with verification status (whole-project computation), 5 timed requests;
#   - a JUnit import of 10,000 test cases (mapped by automation key): upload + dry run, apply;
#   - the HTML report of the 5,000-case plan, 3 timed requests;
# with the server's peak memory (VmHWM) and the generator's time and memory.
#   scripts/bench-vv.sh [N] [C] [R] [seconds-per-wrk-run]   (needs wrk, curl, python3, PostgreSQL)
# BENCH_BIN=path runs that binary instead of building one; CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
cases=${2:-50000}
results=${3:-500000}
secs=${4:-10}
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

# A pytest-style JUnit report of 10,000 tests named after the generated automation keys
# (`bench::test_<n>`), about 8 % failing and 2 % skipped.
python3 - "$work/junit.xml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="pytest" tests="10000">\n')
    for i in range(1, 10001):
        f.write(f'<testcase classname="bench" name="test_{i}" time="0.01">')
        if i % 12 == 0:
            f.write(f'<failure message="assert {i} == {i + 1}">AssertionError: value {i} out of range</failure>')
        elif i % 50 == 1:
            f.write('<skipped type="pytest.skip" message="rig busy"/>')
        f.write('</testcase>\n')
    f.write('</testsuite></testsuites>\n')
PY

hwm() { awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$1/status"; }
ms() { awk -v t="$1" 'BEGIN { printf "%.0f ms", t * 1000 }'; }

run() {
  local name=$1 url=$2 port=$3
  export OPENSESA_LOG_FORMAT=json DATABASE_URL=$url OPENSESA_SECRET_KEY=$key OPENSESA_DATA_DIR=$work/$name OPENSESA_LISTEN=127.0.0.1:$port
  mkdir -p "$work/$name"
  "$bin" migrate >/dev/null 2>&1
  local gen
  gen=$( { /usr/bin/time -f 'GEN %e s %M KiB' "$bin" demo --no-serve --size "$n" --cases "$cases" --results "$results" >"$work/$name.gen" ; } 2>&1 | grep GEN)
  echo "### $name"
  echo
  echo "- generator: $(grep -o 'Generated project.*' "$work/$name.gen")"
  echo "- $(grep -o 'V&V: .*' "$work/$name.gen"); wall ${gen#GEN } (time, peak RSS)"
  "$bin" serve 2>"$work/$name.log" &
  local pid=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
  local base=http://127.0.0.1:$port jar=$work/$name.jar
  curl -fs -o /dev/null -c "$jar" -H "Origin: $base" \
       -d 'email=lead@opensesa.local&password=demo-orbit-lantern-2026' "$base/login"
  local cookie
  cookie=$(awk '$6 == "osa_session" { print $7 }' "$jar")
  local csrf
  csrf=$(curl -fs -H "Cookie: osa_session=$cookie" "$base/p/BENCH/vv" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"//')
  echo "- server after start: peak RSS $(hwm $pid)"
  echo
  echo "| request | connections | requests/s | p50 | p99 |"
  echo "|---|---|---|---|---|"
  for spec in "V&V dashboard:/p/BENCH/vv" \
              "plan page (5,000 cases):/p/BENCH/vv/plans/VP-001" \
              "case page:/p/BENCH/vv/cases/VC-010"; do
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
  # Whole-project pages are kept until the project's facts change: "after an edit" is the
  # first request after a requirement edit (the computation), then a repeat view.
  cold() {
    local label=$1 path=$2 runs=$3 first=() again=()
    for i in $(seq "$runs"); do
      curl -fs -o /dev/null -X PATCH -H "Cookie: osa_session=$cookie" -H "X-CSRF-Token: $csrf" -H "Origin: $base" \
           -H 'Content-Type: application/json' -d "{\"title\":\"Benchmark edit $i\"}" "$base/api/v1/projects/BENCH/requirements/SS01-011"
      first+=("$(curl -fs -o /dev/null -w '%{time_total}' -H "Cookie: osa_session=$cookie" "$base$path")")
      again+=("$(curl -fs -o /dev/null -w '%{time_total}' -H "Cookie: osa_session=$cookie" "$base$path")")
    done
    echo "- $label, $runs runs: after an edit $(printf '%s\n' "${first[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median %.0f ms, max %.0f ms", a[int((NR + 1) / 2)] * 1000, a[NR] * 1000 }'); repeat view $(printf '%s\n' "${again[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median %.1f ms, max %.1f ms", a[int((NR + 1) / 2)] * 1000, a[NR] * 1000 }')"
  }
  cold "GET /p/BENCH/trace/rvtm (RVTM with verification status)" /p/BENCH/trace/rvtm 5
  cold "GET /p/BENCH/vv (V&V dashboard)" /p/BENCH/vv 5
  timed "GET /p/BENCH/trace/rvtm?failing=1" "/p/BENCH/trace/rvtm?failing=1" 5
  timed "HTML report of VP-001 (5,000 cases)" "/p/BENCH/vv/plans/VP-001/report?format=html" 3
  local up report t
  up=$(curl -s -o /dev/null -w '%{time_total} %{redirect_url}' -H "Cookie: osa_session=$cookie" -H "Origin: $base" \
       -F "csrf_token=$csrf" -F configuration=bench -F "file=@$work/junit.xml;type=application/xml" "$base/p/BENCH/vv/junit")
  report=${up#* }
  t=$(curl -s -o /dev/null -w '%{time_total}' -H "Cookie: osa_session=$cookie" -H "Origin: $base" \
       -d "csrf_token=$csrf" "$report/apply")
  echo "- JUnit import of 10,000 tests ($(du -k "$work/junit.xml" | cut -f1) KiB): upload and dry run $(ms "${up%% *}"), apply $(ms "$t"); peak RSS $(hwm $pid)"
  curl -fs -o /dev/null -H "Cookie: osa_session=$cookie" "$base/p/BENCH/vv"
  for c in 1; do
    out=$(wrk -t1 -c"$c" -d"${secs}s" --latency -H "Cookie: osa_session=$cookie" "$base/p/BENCH/vv")
    echo "- dashboard after the import (1 connection): p50 $(awk '$1 == "50%" { print $2 }' <<<"$out"), p99 $(awk '$1 == "99%" { print $2 }' <<<"$out")"
  done
  kill -TERM "$pid"; wait "$pid" || true
  echo
}

run sqlite "sqlite://$work/sqlite/opensesa.sqlite3" 18291
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_vv' -c 'CREATE DATABASE opensesa_bench_vv' >/dev/null
run postgresql "${pg_admin%/*}/opensesa_bench_vv" 18292
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_vv' >/dev/null
