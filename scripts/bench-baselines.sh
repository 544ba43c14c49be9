#!/usr/bin/env bash
# Baselines at scale: a generated project (`opensesa demo --size N`, default 100,000
# requirements and about 150,000 links) on SQLite and on PostgreSQL, then over HTTP on
# loopback, each step timed with curl:
#   - freeze BL-001 (the whole project);
#   - change 1 % of the requirements (a bulk edit of the owner of the first 100
#     requirements of ten software modules: a new revision each, and their links suspect);
#   - compare BL-001 with the working state;
#   - freeze BL-002 (the groups of the untouched modules are shared, not written);
#   - compare BL-001 with BL-002, and BL-002 with the working state (nothing changed);
#   - change another 1 % and freeze BL-003 at once (the freeze computes the changed groups);
#   - a release pack's page on BL-002 (the live readiness checklist);
# with the server's peak memory (VmHWM).
#   scripts/bench-baselines.sh [N]   (needs curl, python3, PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
cargo build --release --locked -q
bin=${BENCH_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/opensesa}
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
  "$bin" demo --no-serve --size "$n" >"$work/$name.gen" 2>&1
  echo "### $name"
  echo
  echo "- generator: $(grep -o 'Generated project.*' "$work/$name.gen")"
  "$bin" serve 2>"$work/$name.log" &
  local pid=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
  local base=http://127.0.0.1:$port jar=$work/$name.jar
  curl -fs -o /dev/null -c "$jar" -H "Origin: $base" \
       -d 'email=lead@opensesa.local&password=demo-orbit-lantern-2026' "$base/login"
  local cookie csrf
  cookie=$(awk '$6 == "osa_session" { print $7 }' "$jar")
  csrf=$(curl -fs -H "Cookie: osa_session=$cookie" "$base/p/BENCH/baselines" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"//')
  post() { curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Cookie: osa_session=$cookie" -H "Origin: $base" --data-urlencode "csrf_token=$csrf" "$@"; }
  get() { curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Cookie: osa_session=$cookie" "$@"; }
  ms() { awk -v s="$1" 'BEGIN { split(s, a, " "); printf "%.0f ms (HTTP %s)", a[2] * 1000, a[1] }'; }
  post -d name=BL1 -d include_vv=1 "$base/p/BENCH/baselines" >/dev/null
  echo "- freeze BL-001 ($n requirements and their links; the generator computed the working groups): $(ms "$(post "$base/p/BENCH/baselines/BL-001/freeze")")"
  change() {
    local owner=$1 t0 t1
    t0=$(date +%s.%N)
    for m in $(seq -w 1 10); do
      local sel=()
      for i in $(seq 1 100); do sel+=(--data-urlencode "sel=SW$m-$(printf '%03d' "$i")"); done
      post -d set_owner=1 -d owner="$owner" "${sel[@]}" "$base/p/BENCH/requirements/m/SW$m/bulk" >/dev/null
    done
    t1=$(date +%s.%N)
    echo "- change 1 % (1,000 requirements in 10 bulk edits, owner $owner): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f ms", (b - a) * 1000 }')"
  }
  change bench-owner
  for _ in 1 2 3; do
    echo "- compare BL-001 → working state: $(ms "$(get "$base/p/BENCH/baselines/compare?from=BL-001&to=working")")"
  done
  post -d name=BL2 -d include_vv=1 "$base/p/BENCH/baselines" >/dev/null
  echo "- freeze BL-002 (after the 1 % change): $(ms "$(post "$base/p/BENCH/baselines/BL-002/freeze")")"
  for _ in 1 2 3; do
    echo "- compare BL-001 → BL-002: $(ms "$(get "$base/p/BENCH/baselines/compare?from=BL-001&to=BL-002")")"
  done
  echo "- compare BL-002 → working state (no change): $(ms "$(get "$base/p/BENCH/baselines/compare?from=BL-002&to=working")")"
  echo "- comparison as XLSX (BL-001 → BL-002): $(ms "$(get "$base/p/BENCH/baselines/compare?from=BL-001&to=BL-002&format=xlsx")")"
  change bench-owner-2
  post -d name=BL3 -d include_vv=1 "$base/p/BENCH/baselines" >/dev/null
  echo "- freeze BL-003 right after another 1 % change (its ten changed groups computed by the freeze): $(ms "$(post "$base/p/BENCH/baselines/BL-003/freeze")")"
  post -d baseline=BL-002 -d name=R1 "$base/p/BENCH/releases" >/dev/null
  for _ in 1 2 3; do
    echo "- release pack page (live readiness checklist over BL-002): $(ms "$(get "$base/p/BENCH/releases/RP-001")")"
  done
  echo "- server peak RSS $(hwm $pid)"
  kill -TERM "$pid"; wait "$pid" || true
  echo
}

run sqlite "sqlite://$work/sqlite/opensesa.sqlite3" 18391
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_bl' -c 'CREATE DATABASE opensesa_bench_bl' >/dev/null
run postgresql "${pg_admin%/*}/opensesa_bench_bl" 18392
psql "$pg_admin" -qc 'DROP DATABASE IF EXISTS opensesa_bench_bl' >/dev/null
