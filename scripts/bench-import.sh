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

# rounds KIND PACK BASELINE-LABEL BASELINE-COMMAND...: ROUNDS rounds of the baseline then
# ours (then CLIENTELE_BENCH_OTHER) importing PACK into a fresh SQLite file; each round's
# figures go to $tmp/KIND.{bt,bm,ot,om,pt}, one line per round.
rounds() {
  local kind=$1 pack=$2 label=$3 r bt bm ot om pt pm
  shift 3
  for r in $(seq "$ROUNDS"); do
    rm -f "$dir/$kind.db"* "$dir/$kind-other.db"*
    read -r bt bm < <(measure "$@")
    read -r ot om < <(measure "$bin" --db "$dir/$kind.db" import "$pack" --format json)
    echo "$bt" >>"$tmp/$kind.bt"; echo "$bm" >>"$tmp/$kind.bm"
    echo "$ot" >>"$tmp/$kind.ot"; echo "$om" >>"$tmp/$kind.om"
    echo "round $r: $label ${bt}s, peak ${bm} MB; clientele ${ot}s, peak ${om} MB," \
      "$(sqlite3 "$dir/$kind.db" "SELECT COUNT(*) FROM customers") customers"
    if [ -n "${CLIENTELE_BENCH_OTHER:-}" ]; then
      read -r pt pm < <(measure "$CLIENTELE_BENCH_OTHER" --db "$dir/$kind-other.db" import "$pack" --format json)
      echo "$pt" >>"$tmp/$kind.pt"
      echo "         other binary ($CLIENTELE_BENCH_OTHER): ${pt}s, peak ${pm} MB"
    fi
  done
  printf '%-40s %ss (median), peak %s MB\n' "baseline $label:" "$(median <"$tmp/$kind.bt")" "$(sort -n "$tmp/$kind.bm" | tail -1)"
  printf '%-40s %ss (median), peak %s MB (highest)\n' "clientele import (full validation):" "$(median <"$tmp/$kind.ot")" "$(sort -n "$tmp/$kind.om" | tail -1)"
  if [ -n "${CLIENTELE_BENCH_OTHER:-}" ]; then
    echo "this build / other: $(ratio_median "$tmp/$kind.ot" "$tmp/$kind.pt") (median)"
  fi
}

echo "== CSV: $N rows into a fresh SQLite file ($ROUNDS rounds)"
cat > "$dir/import.sql" <<SQL
.mode csv
.separator ";"
.import $dir/pack-$N.csv clients
CREATE UNIQUE INDEX clients_account ON clients ("Compte client");
SQL
rounds csv "$dir/pack-$N.csv" "sqlite3 .import + unique index" \
  sh -c "rm -f $dir/base.db && sqlite3 $dir/base.db < $dir/import.sql"
echo "ratio: $(ratio_median "$tmp/csv.ot" "$tmp/csv.bt")x the baseline, median of the rounds' ratios (goal <= 1.0x, peak <= 200 MB)"

echo "== XLSX: $M rows ($ROUNDS rounds)"
rounds xlsx "$dir/pack-$M.xlsx" "bare calamine read" "$target/release/examples/calamine_read" "$dir/pack-$M.xlsx"
om=$(sort -n "$tmp/xlsx.om" | tail -1)
bm=$(sort -n "$tmp/xlsx.bm" | tail -1)
echo "ratio: $(ratio_median "$tmp/xlsx.ot" "$tmp/xlsx.bt")x the baseline time, median of the rounds' ratios (goal <= 0.6x); memory $(awk -v o="$om" -v b="$bm" 'BEGIN{printf "%.2f", o/b}')x (goal < 1x)"
