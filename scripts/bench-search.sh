#!/usr/bin/env bash
# Search benchmark (issue 13): N customers (default 1,000,000) imported into SQLite and into
# PostgreSQL, a release server started on each, then p50/p95 per query kind
# (scripts/bench_search.py: search?term= by name fragment, common word, SIRET, SIREN, VAT,
# account and phone; filter[name]; pages of every sort). Also prints what the search indexes
# cost the import: the time to build them alone on the loaded database (a first import
# builds them once at its end), and the database's size with and without them.
#
# Usage: scripts/bench-search.sh [N]        PG=postgres://root@127.0.0.1:5432 PORT=18090
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
PORT=${PORT:-18090}
REQUESTS=${REQUESTS:-100}
PG=${PG:-postgres://root@127.0.0.1:5432}
dir=bench-data
mkdir -p "$dir"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p clientele
bin=$CARGO_TARGET_DIR/release/clientele
gen=../shared/tools/genpack.py
[ -f "$gen" ] || gen=/work/shared/tools/genpack.py
pack="$dir/phones-$N.csv"
[ -f "$pack" ] || python3 "$gen" "$N" "$pack" --phones

secs() { python3 -c "import sys,time; print(f'{time.time()-float(sys.argv[1]):.2f}')" "$1"; }

db="$dir/search-$N.db"
if [ ! -f "$db" ]; then
  echo "== SQLite: importing $N customers"
  t=$(date +%s.%N); "$bin" --db "$db.tmp" import "$pack" --format json > /dev/null; echo "   import: $(secs "$t") s"
  mv "$db.tmp" "$db"; rm -f "$db.tmp-wal" "$db.tmp-shm"
fi
pgdb="clientele_bench_search_$N"
if ! psql "$PG/$pgdb" -qtAc "SELECT 1 FROM customers LIMIT 1" >/dev/null 2>&1; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $pgdb" -qc "CREATE DATABASE $pgdb"
  echo "== PostgreSQL: importing $N customers"
  t=$(date +%s.%N); "$bin" --db "$PG/$pgdb" import "$pack" --format json > /dev/null; echo "   import: $(secs "$t") s"
  psql "$PG/$pgdb" -qc "VACUUM ANALYZE"
fi
run() { # label, database
  CLIENTELE_LOG=info "$bin" --db "$2" serve --listen "127.0.0.1:$PORT" 2> "$dir/serve-search.log" &
  server=$!
  token=$("$bin" --db "$2" token create "bench-$RANDOM" --scope read 2>/dev/null)
  writer=$("$bin" --db "$2" token create "bench-$RANDOM" --scope write 2>/dev/null)
  until curl -sf "http://127.0.0.1:$PORT/ready" > /dev/null; do
    kill -0 $server 2>/dev/null || { cat "$dir/serve-search.log"; exit 3; }
    sleep 0.2
  done
  # A first import leaves the search indexes to the server, which builds them at start.
  for _ in $(seq 1 600); do
    grep -q "search indexes built" "$dir/serve-search.log" && break
    case "$2" in
      postgres*) pending=$(psql "$2" -qtAc "SELECT 1 FROM meta WHERE key = 'search_pending'" 2>/dev/null) ;;
      *) pending=$(sqlite3 "$2" "SELECT 1 FROM meta WHERE key = 'search_pending'" 2>/dev/null) ;;
    esac
    [ -n "$pending" ] || break
    sleep 0.5
  done
  grep -h 'search indexes built' "$dir/serve-search.log" | tail -1 || true
  echo "== $1, $N customers"
  python3 scripts/bench_search.py "http://127.0.0.1:$PORT" "$token" "$pack" "$REQUESTS" "$writer" || true
  kill $server; wait $server 2>/dev/null || true
}
run SQLite "$db"
run PostgreSQL "$PG/$pgdb"
echo "== SQLite: what the search indexes cost (built alone on a copy of the loaded database)"
cp "$db" "$dir/search-cost.db"
sqlite3 "$dir/search-cost.db" "DROP TRIGGER customers_fts_insert; DROP TRIGGER customers_fts_update; DROP TRIGGER customers_fts_delete; DROP TABLE customers_fts; DROP INDEX customers_name_order; DROP INDEX customers_created; DROP INDEX customers_updated; DROP INDEX customers_account_lower; DROP INDEX customers_vat; VACUUM;"
without=$(stat -c %s "$dir/search-cost.db")
t=$(date +%s.%N)
sqlite3 "$dir/search-cost.db" <<'SQL'
CREATE VIRTUAL TABLE customers_fts USING fts5(search, content='customers', content_rowid='id', tokenize='trigram', detail='full');
INSERT INTO customers_fts (customers_fts) VALUES ('rebuild');
SQL
fts=$(secs "$t"); t=$(date +%s.%N)
sqlite3 "$dir/search-cost.db" "CREATE INDEX customers_name_order ON customers (search, id); CREATE INDEX customers_created ON customers (created_at, id); CREATE INDEX customers_updated ON customers (updated_at, id); CREATE INDEX customers_account_lower ON customers (lower(\"customerAccount\")); CREATE INDEX customers_vat ON customers (\"taxRegistrationNumber\");"
sorts=$(secs "$t")
with=$(stat -c %s "$dir/search-cost.db")
echo "   trigram index: $fts s, B-tree indexes (sorts, account, VAT): $sorts s; file $((without / 1048576)) MB without them, $((with / 1048576)) MB with"
rm -f "$dir/search-cost.db"

echo "== PostgreSQL: what the search indexes cost (built alone)"
psql "$PG/$pgdb" -qtA <<'SQL'
\timing on
BEGIN;
DROP INDEX customers_trgm, customers_name_order, customers_created, customers_updated, customers_account_lower, customers_vat;
SET LOCAL maintenance_work_mem = '256MB';
CREATE INDEX customers_trgm ON customers USING gin (search gin_trgm_ops);
CREATE INDEX customers_name_order ON customers (search COLLATE "C" NULLS FIRST, id);
CREATE INDEX customers_created ON customers (created_at COLLATE "C" NULLS FIRST, id);
CREATE INDEX customers_updated ON customers (updated_at COLLATE "C" NULLS FIRST, id);
CREATE INDEX customers_account_lower ON customers (lower("customerAccount"));
CREATE INDEX customers_vat ON customers ("taxRegistrationNumber" COLLATE "C");
COMMIT;
SQL


