#!/usr/bin/env bash
# PostgreSQL import benchmark (issue 4): our figure next to a baseline measured in the same run.
#   baseline: psql \copy of the N-row CSV pack into an untyped table (all text columns)
#             + one unique index on the account column, in a fresh database;
#   ours:     clientele import of the same file into a fresh database, full validation.
# Goal (issue 13): ours <= 1.5x the baseline. Each figure is the median of ROUNDS rounds (default 3).
# Usage: scripts/bench-pg.sh [N]
#   PG_ADMIN   admin URL used to create the databases (default postgres://postgres@127.0.0.1:5432/test)
#   CARGO_TARGET_DIR  where the release binary is built (default target)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
admin=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}
base_url=${admin%/*}
target=${CARGO_TARGET_DIR:-target}
dir=bench-data
mkdir -p "$dir"
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p clientele
bin=$target/release/clientele
csv=$dir/pack-$N.csv
[ -f "$csv" ] || python3 ../shared/tools/genpack.py "$N" "$csv"

db_base=clientele_bench_base_$$
db_ours=clientele_bench_ours_$$
cleanup() {
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db_base WITH (FORCE)" -c "DROP DATABASE IF EXISTS $db_ours WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# The untyped table: one text column per header of the file.
header=$(head -n 1 "$csv" | sed 's/^\xef\xbb\xbf//; s/\r$//')
cols=$(echo "$header" | awk -F';' '{for (i = 1; i <= NF; i++) printf "%sc%d text", (i > 1 ? ", " : ""), i}')

now() { date +%s.%N; }
# This VM's speed drifts by up to 2x between minutes: each figure is the median of ROUNDS
# rounds (default 3), baseline and ours alternating, each into fresh databases.
ROUNDS=${ROUNDS:-3}
median() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
bts=() ots=() ratios=()

echo "== $N rows into a fresh PostgreSQL database ($ROUNDS rounds)"
for r in $(seq "$ROUNDS"); do
  cleanup
  psql -q "$admin" -c "CREATE DATABASE $db_base" -c "CREATE DATABASE $db_ours"
  psql -q "$base_url/$db_base" -c "CREATE TABLE clients ($cols)"
  t0=$(now)
  psql -q "$base_url/$db_base" -v ON_ERROR_STOP=1 \
    -c "\\copy clients FROM '$csv' WITH (FORMAT csv, HEADER true, DELIMITER ';')" \
    -c "CREATE UNIQUE INDEX clients_account ON clients (c1)"
  t1=$(now)
  "$bin" --db "$base_url/$db_ours" import "$csv" --format json >"$dir/pg-report.json"
  t2=$(now)
  rows=$(psql -Atq "$base_url/$db_ours" -c "SELECT COUNT(*) FROM customers")
  base_rows=$(psql -Atq "$base_url/$db_base" -c "SELECT COUNT(*) FROM clients")
  bt=$(echo "$t1 - $t0" | bc)
  ot=$(echo "$t2 - $t1" | bc)
  bts+=("$bt") ots+=("$ot") ratios+=("$(echo "$ot / $bt" | bc -l)")
  printf 'round %s: psql \\copy + unique index %.2fs (%s rows); clientele %.2fs (%s customers)\n' \
    "$r" "$bt" "$base_rows" "$ot" "$rows"
done
printf 'baseline psql \\copy + unique index:  %6.2fs (median)\n' "$(printf '%s\n' "${bts[@]}" | median)"
printf 'clientele import (full validation): %6.2fs (median)\n' "$(printf '%s\n' "${ots[@]}" | median)"
printf 'ratio: %.2fx the baseline, median of the rounds'"'"' ratios (goal <= 1.5x)\n' "$(printf '%s\n' "${ratios[@]}" | median)"
