#!/usr/bin/env bash
# Coverage-guided fuzzing of the pack readers, validation and the API input decoder
# (cargo fuzz, libFuzzer; targets in fuzz/fuzz_targets).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      default: 600 s, every target
#   FUZZ_MINIMISE=1 scripts/fuzz.sh ...   also merge what was found into fuzz/corpus (cmin)
#
# One fuzzing process at a time, at the lowest priority (the machine is shared), with
# libFuzzer's per-input bounds: 10 s of time, 2 GiB of memory. A crash, hang or OOM stops
# libFuzzer; the script files the input under fuzz/artifacts/TARGET/ and starts again for
# the rest of the target's time, so that one defect does not end the run. It prints, per
# target: executions, coverage (libFuzzer's `cov` edges and `ft` features), corpus size,
# peak memory and the crashes found. Every crash found must become a regression test in
# the normal suite (see docs/decisions.md, "Fuzzing").
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs=${1:-600}
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q '^nightly' || { echo "needs the nightly toolchain (rustup toolchain install nightly)" >&2; exit 2; }

# Sanitizer none: the code under test is safe Rust; ASan would halve the executions
# without finding anything libFuzzer's panic, timeout and RSS checks do not.
# The API target is its own package (fuzz/api) so that the others build without the server.
bin=target/x86_64-unknown-linux-gnu/release
if [ $# -gt 0 ]; then
  targets=("$@")
else
  # The readers first: they parse the most hostile input.
  targets=(csv_reader xlsx_reader ods_reader cells phone headers api_input)
fi
nice -n 19 cargo +nightly fuzz build -O -s none >/dev/null
if printf '%s\n' "${targets[@]}" | grep -qx api_input; then
  nice -n 19 cargo +nightly fuzz build -O -s none --fuzz-dir api >/dev/null
fi

summary=()
for t in "${targets[@]}"; do
  work=target/corpus/$t
  art=artifacts/$t
  mkdir -p "$work" "$art" "corpus/$t"
  end=$(( $(date +%s) + secs ))
  execs=0; cov=0; ft=0; corp=0; rss=0; runs=0
  before=$(find "$art" -type f | wc -l)
  while :; do
    left=$(( end - $(date +%s) ))
    [ "$left" -gt 5 ] || break
    log=target/fuzz-$t.log
    # The first corpus directory receives the new inputs; the committed one is only read.
    set +e
    nice -n 19 "$bin/$t" "$work" "corpus/$t" -max_total_time="$left" -timeout=10 \
      -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$art/" >"$log" 2>&1
    rc=$?
    set -e
    runs=$((runs + 1))
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    execs=$((execs + ${n:-0}))
    line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
    if [ -n "$line" ]; then
      cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$line")
      ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$line")
      corp=$(sed -E 's/.* corp: ([0-9]+).*/\1/' <<<"$line")
    fi
    r=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    [ "${r:-0}" -gt "$rss" ] && rss=${r:-0}
    if [ "$rc" -ne 0 ]; then
      echo "== $t: libFuzzer stopped (exit $rc):" >&2
      grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -5 >&2 || true
    fi
    [ "$rc" -eq 0 ] && break
  done
  after=$(find "$art" -type f | wc -l)
  if [ "${FUZZ_MINIMISE:-0}" = 1 ]; then
    # Keep the smallest set of inputs that covers what the committed and the new ones do.
    rm -rf "target/cmin-$t" && mkdir -p "target/cmin-$t"
    nice -n 19 "$bin/$t" -merge=1 -timeout=10 -rss_limit_mb=2048 "target/cmin-$t" "corpus/$t" "$work" >/dev/null 2>&1 &&
      rm -rf "corpus/$t" && mv "target/cmin-$t" "corpus/$t"
  fi
  summary+=("$(printf '%-12s %8ss %12s execs  cov %6s  ft %6s  corpus %6s  peak %5s MB  runs %3s  new crashes %s' \
    "$t" "$secs" "$execs" "$cov" "$ft" "$corp" "$rss" "$runs" "$((after - before))")")
  echo "${summary[-1]}"
done
echo
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "artifacts (crashes, timeouts, OOMs): fuzz/artifacts/"
