#!/usr/bin/env bash
# Fixing-grid benchmark (issue 14): a pack of N rows (default 50,000) with every 10th row in
# error, checked by a release server on SQLite, then cell edits in its grid, each judged
# again on the server (scripts/bench_grid.py). Prints p50/p95 of an edit and of a page of
# rows next to the baseline measured in the same run: the check of the whole pack (what
# fixing a cell cost before the grid: fix in Excel, upload again, wait for the check).
# With PG=postgres://… the same against PostgreSQL too.
#
# Usage: scripts/bench-grid.sh [N] [EDITS]        PORT=18091
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50000}
EDITS=${2:-300}
PORT=${PORT:-18091}
dir=bench-data
mkdir -p "$dir"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p clientele
bin=$CARGO_TARGET_DIR/release/clientele
pack="$dir/grid-$N.csv"
[ -f "$pack" ] || python3 scripts/bad_pack.py "$N" "$pack"
password="grid benchmark password"

run() { # label, database
  echo "$password" | "$bin" --db "$2" user add grid@example.fr > /dev/null 2>&1 || true
  "$bin" --db "$2" serve --listen "127.0.0.1:$PORT" 2> "$dir/serve-grid.log" &
  server=$!
  until curl -sf "http://127.0.0.1:$PORT/ready" > /dev/null; do
    kill -0 $server 2>/dev/null || { cat "$dir/serve-grid.log"; exit 3; }
    sleep 0.2
  done
  echo "== $1"
  python3 scripts/bench_grid.py "http://127.0.0.1:$PORT" grid@example.fr "$password" "$pack" "$EDITS"
  kill $server; wait $server 2>/dev/null || true
}

db="$dir/grid.db"
rm -f "$db" "$db-wal" "$db-shm"
run "SQLite" "$db"
if [ -n "${PG:-}" ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS clientele_bench_grid" -qc "CREATE DATABASE clientele_bench_grid"
  run "PostgreSQL" "$PG/clientele_bench_grid"
fi
