#!/usr/bin/env bash
# Call-routing benchmark (issue "REST API and call routing"): wrk on loopback against
# /api/isVipByPhoneNumber with random known numbers (customer phones and contact mobiles,
# lookup token in ?api_token=), and against /api/version on the same server in the same run
# as the baseline. Prints both req/s, the ratio (goal >= 0.8) and the p99 latencies (goal <= 5 ms).
# Then the same lookup run against a server started with --no-metrics, in the same run: the
# cost of the metrics (goal: none visible). Access logs are off in both (CLIENTELE_LOG=warn).
# CLIENTELE_BENCH_OTHER=/path/to/clientele also runs the lookup against that binary (e.g. a
# release build of an earlier commit) on its own copy of the same data, in the same run.
#
# Usage: scripts/bench-routing.sh [N_CUSTOMERS] [N_CONTACTS]     (defaults 200000 200000)
#        DURATION=20s CONNECTIONS=32 THREADS=2 PORT=18080 scripts/bench-routing.sh 1000000
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
C=${2:-$N}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
dir=bench-data
mkdir -p "$dir"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p clientele
bin=$CARGO_TARGET_DIR/release/clientele
gen=../shared/tools/genpack.py
[ -f "$gen" ] || gen=/work/shared/tools/genpack.py   # from a worktree under /work/wt

pack="$dir/phones-$N.csv"
[ -f "$pack" ] || python3 "$gen" "$N" "$pack" --phones
db="$dir/routing-$N-$C.db"
# The same data for another binary (its own file: an older binary may not open a newer schema).
make_db() { # binary, db file
  [ -f "$2" ] && return
  echo "== importing $N customers with phone numbers ($1)"
  "$1" --db "$2.tmp" import "$pack" --format json > /dev/null
  echo "== adding $C contacts"
  sqlite3 "$2.tmp" <<SQL
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $C)
INSERT INTO contacts (customer_id, "firstName", "lastName", "mobilePhone", mobile_e164, created_at, updated_at)
SELECT ((i - 1) % $N) + 1, 'Bench', 'Contact ' || i, printf('06%08d', i), printf('+336%08d', i),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM seq;
INSERT INTO phones (e164, last9, customer_id, contact_id) SELECT mobile_e164, substr(mobile_e164, -9), customer_id, id FROM contacts;
INSERT INTO changes (kind, item) VALUES ('all', 0);
COMMIT;
SQL
  mv "$2.tmp" "$2"
  rm -f "$2.tmp-wal" "$2.tmp-shm"
}
other=${CLIENTELE_BENCH_OTHER:-}
if [ -n "$other" ]; then
  other_db="$dir/routing-other-$N-$C.db"
  rm -f "$other_db"
  make_db "$other" "$other_db"
  other_token=$("$other" --db "$other_db" token create bench --scope lookup 2>/dev/null)
fi
make_db "$bin" "$db"
token=$("$bin" --db "$db" token create bench --scope lookup 2>/dev/null)

start_server() {
  start_binary "$bin" "$db" "$token" "$@"
}
start_binary() { # binary, db, token, serve options…
  local b=$1 d=$2 t=$3
  shift 3
  CLIENTELE_LOG=warn "$b" --db "$d" serve --listen "127.0.0.1:$PORT" "$@" 2> "$dir/serve.log" &
  server=$!
  start=$(date +%s.%N)
  # Ready when a known number is answered (the routing index loads in the background; an
  # older binary has no /ready).
  until [ "$(curl -s "http://127.0.0.1:$PORT/api/isKnownPhoneNumber?phoneNumber=0140000001&api_token=$t")" = true ]; do
    kill -0 $server 2>/dev/null || { cat "$dir/serve.log"; exit 3; }
    sleep 0.1
  done
  echo "== server $b ${*:-with metrics} ready in $(echo "$(date +%s.%N) - $start" | bc) s (RSS $(ps -o rss= -p $server | awk '{printf "%.0f MB", $1/1024}'))"
}
stop_server() { kill $server; wait $server 2>/dev/null || true; }
start_server
trap 'kill $server 2>/dev/null || true' EXIT

# Both runs use the same script (same client-side cost, same request size): only the path
# differs, so the ratio measures the server.
script() {
  cat <<LUA
local n, c, token, path = $N, $C, "$token", "$1"
math.randomseed(os.time())
request = function()
  local num
  if math.random() < 0.5 then
    num = string.format("01%08d", 40000000 + math.random(1, n))
  else
    num = string.format("06%08d", math.random(1, c))
  end
  return wrk.format("GET", path .. "?phoneNumber=" .. num .. "&api_token=" .. token)
end
LUA
}
script /api/version > "$dir/version.lua"
script /api/isVipByPhoneNumber > "$dir/routing.lua"

run() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@"; }
rps() { awk '/^Requests\/sec/ {print $2}'; }
p99() { awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v = v / 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)} else if (v ~ /s$/) {sub(/s/, "", v); v = v * 1000}; print v}'; }

echo "== wrk /api/version ($THREADS threads, $CONNECTIONS connections, $DURATION)"
base=$(run -s "$dir/version.lua" "http://127.0.0.1:$PORT")
echo "$base" | sed 's/^/   /'
echo "== wrk /api/isVipByPhoneNumber with random known numbers"
look=$(run -s "$dir/routing.lua" "http://127.0.0.1:$PORT")
echo "$look" | sed 's/^/   /'

metrics_sample=$(curl -s "http://127.0.0.1:$PORT/metrics" | grep -c '^clientele_' || true)
stop_server
echo "== wrk /api/isVipByPhoneNumber, server started with --no-metrics"
start_server --no-metrics
bare=$(run -s "$dir/routing.lua" "http://127.0.0.1:$PORT")
echo "$bare" | sed 's/^/   /'
stop_server

if [ -n "$other" ]; then
  echo "== wrk /api/isVipByPhoneNumber, other binary $other"
  start_binary "$other" "$other_db" "$other_token"
  sed "s/local n, c, token, path = $N, $C, \"$token\"/local n, c, token, path = $N, $C, \"$other_token\"/" "$dir/routing.lua" > "$dir/routing-other.lua"
  oth=$(run -s "$dir/routing-other.lua" "http://127.0.0.1:$PORT")
  echo "$oth" | sed 's/^/   /'
  stop_server
fi

b=$(echo "$base" | rps); l=$(echo "$look" | rps); n=$(echo "$bare" | rps)
bp=$(echo "$base" | p99); lp=$(echo "$look" | p99); np=$(echo "$bare" | p99)
echo
echo "customers $N, contacts $C ($metrics_sample clientele_ series exported)"
printf "version:                 %10.0f req/s   p99 %6.2f ms\n" "$b" "$bp"
printf "lookup (metrics on):     %10.0f req/s   p99 %6.2f ms\n" "$l" "$lp"
printf "lookup (--no-metrics):   %10.0f req/s   p99 %6.2f ms\n" "$n" "$np"
printf "ratio lookup/version: %.2f (goal >= 0.8); lookup p99 %.2f ms (goal <= 5)\n" "$(echo "$l / $b" | bc -l)" "$lp"
printf "metrics on / off: %.2f (goal: 1.00 within the run-to-run noise)\n" "$(echo "$l / $n" | bc -l)"
if [ -n "$other" ]; then
  o=$(echo "$oth" | rps); op=$(echo "$oth" | p99)
  printf "lookup (other binary):   %10.0f req/s   p99 %6.2f ms\n" "$o" "$op"
  printf "this build / other: %.2f req/s, p99 %.2f ms vs %.2f ms\n" "$(echo "$l / $o" | bc -l)" "$lp" "$op"
fi
