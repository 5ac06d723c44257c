#!/usr/bin/env bash
# Import benchmarks (issue "Pack import"): our figure next to a baseline measured in the same run.
#  1. N-row CSV pack (default 1,000,000) into a fresh SQLite file, full validation,
#     against sqlite3's own `.import` of the same file into an untyped table + one unique index.
#  2. M-row XLSX pack (default 200,000), against a bare calamine read of the same file.
# Usage: scripts/bench-import.sh [N] [M]     (needs python3 with xlsxwriter for the XLSX pack)
# CLIENTELE_BENCH_OTHER=/path/to/clientele also measures that binary (e.g. a release build of
# main) on the same files, in the same run, to compare two versions.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
M=${2:-200000}
dir=bench-data
mkdir -p "$dir"
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p clientele -p clientele-pack --examples --bins
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/clientele
gen=../shared/tools/genpack.py
[ -f "$gen" ] || gen=/work/shared/tools/genpack.py   # from a worktree under /work/wt

[ -f "$dir/pack-$N.csv" ] || python3 "$gen" "$N" "$dir/pack-$N.csv"
[ -f "$dir/pack-$M.xlsx" ] || python3 "$gen" "$M" "$dir/pack-$M.xlsx"

# Wall time (s) and peak RSS (MB) of a command, via GNU time.
measure() {
  local f
  f=$(mktemp)
  /usr/bin/time -o "$f" -f '%e %M' "$@" >/dev/null 2>&1 || true
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$f"
  rm -f "$f"
}

echo "== CSV: $N rows into a fresh SQLite file"
rm -f "$dir/base.db" "$dir/ours.db"*
cat > "$dir/import.sql" <<SQL
.mode csv
.separator ";"
.import $dir/pack-$N.csv clients
CREATE UNIQUE INDEX clients_account ON clients ("Compte client");
SQL
read -r bt bm < <(measure sh -c "sqlite3 $dir/base.db < $dir/import.sql")
read -r ot om < <(measure "$bin" --db "$dir/ours.db" import "$dir/pack-$N.csv" --format json)
rows=$(sqlite3 "$dir/ours.db" "SELECT COUNT(*) FROM customers")
echo "baseline sqlite3 .import + unique index: ${bt}s, peak ${bm} MB"
echo "clientele import (full validation):     ${ot}s, peak ${om} MB, $rows customers"
awk -v o="$ot" -v b="$bt" 'BEGIN{printf "ratio: %.2fx the baseline (goal <= 1.0x, peak <= 200 MB)\n", o/b}'
if [ -n "${CLIENTELE_BENCH_OTHER:-}" ]; then
  rm -f "$dir/other.db"*
  read -r pt pm < <(measure "$CLIENTELE_BENCH_OTHER" --db "$dir/other.db" import "$dir/pack-$N.csv" --format json)
  echo "other binary ($CLIENTELE_BENCH_OTHER): ${pt}s, peak ${pm} MB"
  awk -v o="$ot" -v b="$pt" 'BEGIN{printf "this build / other: %.3f\n", o/b}'
fi

echo "== XLSX: $M rows"
rm -f "$dir/ours-x.db"*
read -r ct cm < <(measure "$target/release/examples/calamine_read" "$dir/pack-$M.xlsx")
read -r xt xm < <(measure "$bin" --db "$dir/ours-x.db" import "$dir/pack-$M.xlsx" --format json)
echo "baseline bare calamine read:            ${ct}s, peak ${cm} MB"
echo "clientele import (full validation):     ${xt}s, peak ${xm} MB"
awk -v o="$xt" -v b="$ct" -v om="$xm" -v bm="$cm" 'BEGIN{printf "ratio: %.2fx the baseline time (goal <= 0.6x), memory %.2fx (goal < 1x)\n", o/b, om/bm}'
if [ -n "${CLIENTELE_BENCH_OTHER:-}" ]; then
  rm -f "$dir/other-x.db"*
  read -r pt pm < <(measure "$CLIENTELE_BENCH_OTHER" --db "$dir/other-x.db" import "$dir/pack-$M.xlsx" --format json)
  echo "other binary ($CLIENTELE_BENCH_OTHER): ${pt}s, peak ${pm} MB"
  awk -v o="$xt" -v b="$pt" 'BEGIN{printf "this build / other: %.3f\n", o/b}'
fi
