#!/usr/bin/env bash
# HTTP verification under load from a second process on loopback (wrk).
#
#   bench/http_verify.sh DATA_DIR ORG_CODE [DURATION_S] [CONNECTIONS]
#
# Starts `workguard serve` on a free port over DATA_DIR, creates a bench user in ORG_CODE
# if missing, logs in, and runs wrk (1 thread, CONNECTIONS keep-alive connections) against
# GET /api/v1/workers/{random}/verify?operation=hot_work. Prints wrk's latency
# distribution. Stops the server when done. Uses build/release/workguard.
set -euo pipefail
data=${1:?data dir}; org=${2:?org code}; duration=${3:-20}; conns=${4:-32}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/release/workguard
command -v wrk >/dev/null || { echo "wrk missing: run scripts/bootstrap" >&2; exit 2; }

WG_PASSWORD=bench-password-1 "$bin" admin create-user --data "$data" --org "$org" \
  --username bench --role guardian >/dev/null 2>&1 || true
out=$(mktemp)
"$bin" serve --data "$data" --listen 127.0.0.1:0 >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 600); do grep -q 'serving http' "$out" && break; sleep 0.5; done
port=$(grep -o 'http://127.0.0.1:[0-9]*' "$out" | head -1 | cut -d: -f3)
token=$(curl -sf -X POST "127.0.0.1:$port/api/v1/auth/login" \
  -d '{"username":"bench","password":"bench-password-1"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
max_worker=$(curl -sf "127.0.0.1:$port/metrics" | awk '/^wg_index_workers /{print int($2)}')
echo "server pid $pid port $port, $max_worker workers indexed; rss $(awk '/VmRSS/{print $2/1024 " MB"}' /proc/$pid/status)"
WG_TOKEN=$token WG_MAX_WORKER=$max_worker wrk -t1 -c"$conns" -d"${duration}s" --latency \
  -s "$root/bench/http_verify.lua" "http://127.0.0.1:$port"
