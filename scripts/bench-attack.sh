#!/usr/bin/env bash
# Routing under attack (issue "Call routing holds whatever else the server is doing"): one
# server over N customers with phones; wrk measures /api/isVipByPhoneNumber (16
# connections) quiet, then again while, on the same machine,
#   - an anonymous login flood runs (64 connections, a new e-mail on every request), and
#   - a loop uploads the small expanding files of scripts/hostile_files.py through
#     POST /api/v1/imports (dry run, a write token).
# Prints quiet and attacked p99 and throughput side by side with their ratios (goals:
# p99 <= 3x quiet, throughput >= 0.3x quiet, no routing error), the server's peak RSS
# (goal <= 1 GB), and the attack's answers by status (goal: no 5xx, nothing hanging).
#
# Usage: scripts/bench-attack.sh [N]          (default 200000)
#        DURATION=20s PORT=18090 scripts/bench-attack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
DURATION=${DURATION:-20s}
PORT=${PORT:-18090}
dir=bench-data
mkdir -p "$dir"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p clientele
bin=$CARGO_TARGET_DIR/release/clientele
gen=../shared/tools/genpack.py

pack="$dir/phones-$N.csv"
[ -f "$pack" ] || python3 "$gen" "$N" "$pack" --phones
db="$dir/attack-$N.db"
rm -f "$db" "$db-wal" "$db-shm"
echo "== importing $N customers with phone numbers"
"$bin" --db "$db" import "$pack" --format json > /dev/null
printf 'correct horse battery staple\n' | "$bin" --db "$db" user add bench@example.fr > /dev/null
lookup=$("$bin" --db "$db" token create pbx --scope lookup 2>/dev/null)
write=$("$bin" --db "$db" token create uploader --scope write 2>/dev/null)
hostile="$dir/hostile"
[ -f "$hostile/many-strings.xlsx" ] || python3 scripts/hostile_files.py "$hostile" > /dev/null

# The default log level (info: the access log of every answered request; the refusals of a
# throttled client are summed up once a minute per address), unless LOG_LEVEL says otherwise.
"$bin" --db "$db" serve --listen "127.0.0.1:$PORT" ${LOG_LEVEL:+--log-level "$LOG_LEVEL"} \
  2> "$dir/attack-serve.log" &
server=$!
pids=()
cleanup() { kill "$server" "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
until curl -fs "http://127.0.0.1:$PORT/api/version" > /dev/null; do
  kill -0 $server 2>/dev/null || { cat "$dir/attack-serve.log"; exit 3; }
  sleep 0.1
done
# The routing index loads in the background (503 until complete).
for _ in $(seq 1 600); do
  [ "$(curl -s "http://127.0.0.1:$PORT/api/isKnownPhoneNumber?phoneNumber=0140000001&api_token=$lookup")" = true ] && break
  sleep 0.1
done
[ "$(curl -s "http://127.0.0.1:$PORT/api/isKnownPhoneNumber?phoneNumber=0140000001&api_token=$lookup")" = true ] \
  || { echo "sanity check failed"; exit 1; }

# Routing answers by class: 404 is a number genpack left without a phone (about 5 %),
# a right answer; 5xx and socket errors are routing errors.
cat > "$dir/attack-routing.lua" <<LUA
local n, token = $N, "$lookup"
local threads = {}
math.randomseed(os.time())
function setup(thread) table.insert(threads, thread) end
function init(args) ok, nf, bad = 0, 0, 0 end
request = function()
  local num = string.format("01%08d", 40000000 + math.random(1, n))
  return wrk.format("GET", "/api/isVipByPhoneNumber?phoneNumber=" .. num .. "&api_token=" .. token)
end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 404 then nf = nf + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("ok"); b = b + t:get("nf"); c = c + t:get("bad") end
  io.write(string.format("routing answers: 200 %d, 404 %d, errors %d\n", a, b,
    c + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
# Every request a new e-mail (thread id + counter): the per-(e-mail, address) limit alone
# would never trigger. Answers are counted by class; 5xx must stay at zero.
cat > "$dir/attack-login.lua" <<'LUA'
local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  s2, s4, s429, s5 = 0, 0, 0, 0
end
request = function()
  counter = counter + 1
  local body = string.format('{"email":"flood%d-%d@example.fr","password":"Password-%d"}', id, counter, counter)
  return wrk.format("POST", "/api/login", {["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  if status >= 500 then s5 = s5 + 1
  elseif status == 429 then s429 = s429 + 1
  elseif status >= 400 then s4 = s4 + 1
  else s2 = s2 + 1 end
end
function done(summary, latency, requests)
  local a, b, c, d = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s2"); b = b + t:get("s4"); c = c + t:get("s429"); d = d + t:get("s5")
  end
  io.write(string.format("login flood answers: 2xx %d, 401/4xx %d, 429 %d, 5xx %d, socket errors %d, timeouts %d\n",
    a, b, c, d, summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout))
end
LUA

run_routing() { wrk -t2 -c16 -d"$DURATION" --timeout 5s --latency -s "$dir/attack-routing.lua" "http://127.0.0.1:$PORT"; }
rps() { awk '/^Requests\/sec/ {print $2}'; }
p99() { awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v = v / 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)} else if (v ~ /s$/) {sub(/s/, "", v); v = v * 1000}; print v}'; }
errors() { awk '/^routing answers/ {print $NF}'; }

echo "== quiet: wrk /api/isVipByPhoneNumber (2 threads, 16 connections, $DURATION)"
quiet=$(run_routing)
echo "$quiet" | sed 's/^/   /'

echo "== attack: login flood (64 connections) + hostile uploads loop, and the same wrk"
secs=${DURATION%s}
wrk -t1 -c64 -d"$((secs + 4))s" --timeout 30s -s "$dir/attack-login.lua" "http://127.0.0.1:$PORT" > "$dir/attack-login.out" 2>&1 &
pids+=($!)
(
  end=$((SECONDS + secs + 4))
  while [ $SECONDS -lt $end ]; do
    for f in "$hostile"/*.xlsx "$hostile"/*.ods; do
      curl -s -o /dev/null --max-time 60 -w "%{http_code} %{time_total} $(basename "$f")\n" \
        -H "Authorization: Bearer $write" -F dryRun=1 -F "file=@$f" \
        "http://127.0.0.1:$PORT/api/v1/imports" || echo "000 60 $(basename "$f")"
    done
  done
) > "$dir/attack-uploads.out" &
pids+=($!)
sleep 2
attacked=$(run_routing)
echo "$attacked" | sed 's/^/   /'
wait "${pids[@]}" 2>/dev/null || true
pids=()
peak=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")

echo
cat "$dir/attack-login.out" | grep -E "login flood|Requests/sec" | sed 's/^/   /'
echo "   uploads: $(awk '{c[$1]++} END {for (k in c) printf "%s x%d  ", k, c[k]}' "$dir/attack-uploads.out")"
echo "   slowest upload answer: $(sort -k2 -n -r "$dir/attack-uploads.out" | head -1)"
qr=$(echo "$quiet" | rps); ar=$(echo "$attacked" | rps)
qp=$(echo "$quiet" | p99); ap=$(echo "$attacked" | p99)
ae=$(echo "$attacked" | errors)
echo
echo "customers $N; server peak RSS $((peak / 1024)) MB (goal <= 1024)"
printf "routing quiet:    %9.0f req/s   p99 %8.2f ms\n" "$qr" "$qp"
printf "routing attacked: %9.0f req/s   p99 %8.2f ms   errors %d (goal 0)\n" "$ar" "$ap" "$ae"
printf "ratios: p99 %.2fx (goal <= 3), throughput %.2fx (goal >= 0.3)\n" \
  "$(echo "$ap / $qp" | bc -l)" "$(echo "$ar / $qr" | bc -l)"
five=$(awk '$1 ~ /^5/ || $1 == "000"' "$dir/attack-uploads.out" | wc -l)
echo "upload answers 5xx or hanging: $five (goal 0)"
