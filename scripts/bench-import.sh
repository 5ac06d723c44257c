#!/usr/bin/env bash
# Import benchmarks (issue "Pack import"): our figure next to a baseline measured in the same run.
#  1. N-row CSV pack (default 1,000,000) into a fresh SQLite file, full validation,
#     against sqlite3's own `.import` of the same file into an untyped table + one unique index.
#  2. M-row XLSX pack (default 200,000), against a bare calamine read of the same file.
# Usage: [ROUNDS=3] scripts/bench-import.sh [N] [M]   (python3 with xlsxwriter for the XLSX pack)
# Each figure is the median of ROUNDS rounds, baseline and ours alternating in each round.
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

# This VM's speed drifts by up to 2x between minutes: each figure is the median of ROUNDS
# rounds (default 3), baseline and ours alternating within each round.
ROUNDS=${ROUNDS:-3}
median() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
ratio_median() { paste -d' ' "$1" "$2" | awk '{print $1/$2}' | median | awk '{printf "%.2f", $1}'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== CSV: $N rows into a fresh SQLite file ($ROUNDS rounds)"
cat > "$dir/import.sql" <<SQL
.mode csv
.separator ";"
.import $dir/pack-$N.csv clients
CREATE UNIQUE INDEX clients_account ON clients ("Compte client");
SQL
for r in $(seq "$ROUNDS"); do
  rm -f "$dir/base.db" "$dir/ours.db"*
  read -r bt bm < <(measure sh -c "sqlite3 $dir/base.db < $dir/import.sql")
  read -r ot om < <(measure "$bin" --db "$dir/ours.db" import "$dir/pack-$N.csv" --format json)
  rows=$(sqlite3 "$dir/ours.db" "SELECT COUNT(*) FROM customers")
  echo "$bt" >>"$tmp/bt"; echo "$ot" >>"$tmp/ot"; echo "$om" >>"$tmp/om"
  echo "round $r: sqlite3 .import + unique index ${bt}s; clientele ${ot}s, peak ${om} MB, $rows customers"
  if [ -n "${CLIENTELE_BENCH_OTHER:-}" ]; then
    rm -f "$dir/other.db"*
    read -r pt pm < <(measure "$CLIENTELE_BENCH_OTHER" --db "$dir/other.db" import "$dir/pack-$N.csv" --format json)
    echo "$pt" >>"$tmp/pt"
    echo "         other binary ($CLIENTELE_BENCH_OTHER): ${pt}s, peak ${pm} MB"
  fi
done
echo "baseline sqlite3 .import + unique index: $(median <"$tmp/bt")s (median)"
echo "clientele import (full validation):     $(median <"$tmp/ot")s (median), peak $(sort -n "$tmp/om" | tail -1) MB (highest)"
echo "ratio: $(ratio_median "$tmp/ot" "$tmp/bt")x the baseline, median of the rounds' ratios (goal <= 1.0x, peak <= 200 MB)"
if [ -n "${CLIENTELE_BENCH_OTHER:-}" ]; then
  echo "this build / other: $(ratio_median "$tmp/ot" "$tmp/pt") (median)"
fi

echo "== XLSX: $M rows ($ROUNDS rounds)"
for r in $(seq "$ROUNDS"); do
  rm -f "$dir/ours-x.db"*
  read -r ct cm < <(measure "$target/release/examples/calamine_read" "$dir/pack-$M.xlsx")
  read -r xt xm < <(measure "$bin" --db "$dir/ours-x.db" import "$dir/pack-$M.xlsx" --format json)
  echo "$ct" >>"$tmp/ct"; echo "$xt" >>"$tmp/xt"; echo "$xm" >>"$tmp/xm"
  echo "round $r: bare calamine read ${ct}s, peak ${cm} MB; clientele ${xt}s, peak ${xm} MB"
  if [ -n "${CLIENTELE_BENCH_OTHER:-}" ]; then
    rm -f "$dir/other-x.db"*
    read -r pt pm < <(measure "$CLIENTELE_BENCH_OTHER" --db "$dir/other-x.db" import "$dir/pack-$M.xlsx" --format json)
    echo "$pt" >>"$tmp/px"
    echo "         other binary ($CLIENTELE_BENCH_OTHER): ${pt}s, peak ${pm} MB"
  fi
done
echo "baseline bare calamine read:            $(median <"$tmp/ct")s (median), peak ${cm} MB"
echo "clientele import (full validation):     $(median <"$tmp/xt")s (median), peak $(sort -n "$tmp/xm" | tail -1) MB (highest)"
echo "ratio: $(ratio_median "$tmp/xt" "$tmp/ct")x the baseline time, median of the rounds' ratios (goal <= 0.6x); memory $(awk -v o="$(sort -n "$tmp/xm" | tail -1)" -v b="$cm" 'BEGIN{printf "%.2f", o/b}')x (goal < 1x)"
if [ -n "${CLIENTELE_BENCH_OTHER:-}" ]; then
  echo "this build / other: $(ratio_median "$tmp/xt" "$tmp/px") (median)"
fi
