#!/usr/bin/env bash
# Routing-index benchmark (issue 18): memory, load time and speed of the routing index, ours
# against a baseline binary, same run, same database.
#
#  1. A SQLite database of N customers (genpack.py --phones: one landline each, imported
#     with `clientele import`) and C contacts (one mobile each, added with SQL as in
#     bench-routing.sh; the same file is shared with it).
#  2. For the baseline binary and ours, in turn: `clientele serve` on it; the time from the
#     start until a known number is answered (the baseline only listens once its index is
#     built; ours listens at once and answers 503 until it is loaded); VmRSS and VmHWM from
#     /proc/<pid>/status after that; then wrk on /api/isVipByPhoneNumber with random known
#     numbers (the bench-routing.sh script).
#  3. In process (examples/index_bench.rs): the same database loaded as the server loads it,
#     and 10M synthetic numbers built in memory: bytes per number, load time, look-up p50/p99.
#
# Usage: scripts/bench-index.sh [N] [C] [SYNTHETIC]     (defaults 1000000 1000000 10000000)
#   BASE_BIN=path/to/clientele   the baseline binary; else built from BASE_REV (default: the
#                                merge-base with main) in a temporary worktree, same target dir
#   DURATION=10s CONNECTIONS=32 THREADS=2 PORT=18090 SKIP_BUILD=1
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
C=${2:-$N}
SYN=${3:-10000000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18090}
dir=bench-data
mkdir -p "$dir"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
gen=../shared/tools/genpack.py
[ -f "$gen" ] || gen=/work/shared/tools/genpack.py

base_bin=${BASE_BIN:-}
if [ -z "$base_bin" ]; then
  base_bin="$dir/clientele-base"
  if [ ! -x "$base_bin" ]; then
    rev=${BASE_REV:-$(git merge-base HEAD main)}
    echo "== building the baseline ($rev)"
    wt=$(mktemp -d)
    git worktree add --detach "$wt" "$rev" -q
    (cd "$wt" && cargo build --release -q -p clientele)
    cp "$CARGO_TARGET_DIR/release/clientele" "$base_bin"
    git worktree remove --force "$wt"
  fi
fi
if [ -z "${SKIP_BUILD:-}" ]; then
  echo "== building ours"
  cargo build --release -q -p clientele -p clientele-server --example index_bench
fi
bin=$CARGO_TARGET_DIR/release/clientele
example=$CARGO_TARGET_DIR/release/examples/index_bench

pack="$dir/phones-$N.csv"
[ -f "$pack" ] || python3 "$gen" "$N" "$pack" --phones
db="$dir/routing-$N-$C.db"
if [ ! -f "$db" ]; then
  echo "== importing $N customers with phone numbers"
  "$bin" --db "$db.tmp" import "$pack" --format json > /dev/null
  # Contact i belongs to customer ((i-1) mod N)+1, mobile 06 + i on 8 digits, indexed in phones.
  echo "== adding $C contacts"
  sqlite3 "$db.tmp" <<SQL
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $C)
INSERT INTO contacts (customer_id, "firstName", "lastName", "mobilePhone", mobile_e164, created_at, updated_at)
SELECT ((i - 1) % $N) + 1, 'Bench', 'Contact ' || i, printf('06%08d', i), printf('+336%08d', i),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM seq;
INSERT INTO phones (e164, last9, customer_id, contact_id) SELECT mobile_e164, substr(mobile_e164, -9), customer_id, id FROM contacts;
INSERT INTO changes (kind, item) VALUES ('all', 0);
COMMIT;
SQL
  mv "$db.tmp" "$db"
  rm -f "$db.tmp-wal" "$db.tmp-shm"
fi
token=$("$bin" --db "$db" token create bench-index --scope lookup 2>/dev/null)

cat > "$dir/index-routing.lua" <<LUA
local n, c, token = $N, $C, "$token"
math.randomseed(os.time())
request = function()
  local num
  if math.random() < 0.5 then
    num = string.format("01%08d", 40000000 + math.random(1, n))
  else
    num = string.format("06%08d", math.random(1, c))
  end
  return wrk.format("GET", "/api/isVipByPhoneNumber?phoneNumber=" .. num .. "&api_token=" .. token)
end
LUA

kb() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$2/status"; }
rps() { awk '/^Requests\/sec/ {print $2}'; }
lat() { awk -v q="$1" '$1 == q {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v = v / 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)} else if (v ~ /s$/) {sub(/s/, "", v); v = v * 1000}; print v}'; }

# serve LABEL BINARY: start, time until a known number answers, memory, wrk; prints one line.
serve() {
  local label=$1 b=$2
  "$b" --db "$db" serve --listen "127.0.0.1:$PORT" 2> "$dir/index-$label.log" &
  local pid=$! start end status
  start=$(date +%s.%N)
  while :; do
    kill -0 $pid 2>/dev/null || { cat "$dir/index-$label.log"; exit 3; }
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/isKnownPhoneNumber?phoneNumber=0140000001&api_token=$token" || true)
    [ "$status" = 200 ] && break
    # Not faster: each poll is a curl process, and on two cores a tighter loop slows the
    # load it is timing. The server's own figure (its log's `ms`) is printed as well.
    sleep 0.1
  done
  end=$(date +%s.%N)
  [ "$(curl -s "http://127.0.0.1:$PORT/api/isKnownPhoneNumber?phoneNumber=06$(printf %08d "$C")&api_token=$token")" = true ] || { echo "sanity check failed ($label)"; kill $pid; exit 1; }
  local rss hwm out
  rss=$(kb VmRSS $pid); hwm=$(kb VmHWM $pid)
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$dir/index-routing.lua" "http://127.0.0.1:$PORT")
  kill $pid; wait $pid 2>/dev/null || true
  local own
  own=$(sed 's/\x1b\[[0-9;]*m//g' "$dir/index-$label.log" | grep "routing index loaded" | grep -o "ms=[0-9]*" | tail -1)
  printf "%-9s ready %6.2f s (log: %s)   VmRSS %6.0f MB   VmHWM %6.0f MB   wrk %9.0f req/s   p50 %6.2f ms   p99 %6.2f ms\n" \
    "$label" "$(echo "$end - $start" | bc)" "${own:-?}" "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" \
    "$(echo "$out" | rps)" "$(echo "$out" | lat 50%)" "$(echo "$out" | lat 99%)"
}

echo "== $N customers + $C contacts, one number each ($db); wrk $THREADS threads, $CONNECTIONS connections, $DURATION"
serve baseline "$base_bin"
serve ours "$bin"
echo "== in process, the same database (examples/index_bench.rs db)"
"$example" db "$db" | sed 's/^/   /'
echo "== in process, $SYN synthetic numbers (half customers' landlines, half contacts' mobiles)"
"$example" synthetic "$SYN" | sed 's/^/   /'
echo "goals: ours VmRSS <= 150 MB and ready <= 2 s for 1M + 1M; <= 64 bytes per number for 10M; wrk ours >= baseline"
