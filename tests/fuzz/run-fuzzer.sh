#!/usr/bin/env bash
# Runs one libFuzzer target for a while and says what it did:
#   run-fuzzer.sh BINARY SEED_CORPUS DICTIONARY WORK_DIRECTORY SECONDS
# New inputs go to WORK_DIRECTORY/corpus (the seed corpus in the source tree is only read), a
# crashing input to WORK_DIRECTORY/crash-<sha1> (or leak-, timeout-, oom-), the whole log to
# WORK_DIRECTORY/fuzz.log. Exits non-zero when the target crashed, leaked, hung or ran out of
# memory, after printing the report and the input that did it.
set -uo pipefail
if [ "$#" -ne 5 ]; then
  echo "usage: $0 BINARY SEED_CORPUS DICTIONARY WORK_DIRECTORY SECONDS" >&2
  exit 2
fi
binary=$1 seeds=$2 dict=$3 work=$4 seconds=$5
name=$(basename "$binary")
mkdir -p "$work/corpus"
rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

"$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
  -dict="$dict" -artifact_prefix="$work/" "$work/corpus" "$seeds" >"$work/fuzz.log" 2>&1
status=$?

executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
if [ -z "$executions" ]; then # stopped by a finding: the last progress line
  executions=$(grep -oE '^#[0-9]+' "$work/fuzz.log" | tail -1 | tr -d '#')
fi
units=$(find "$work/corpus" -type f | wc -l)
findings=$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
  -o -name 'timeout-*' -o -name 'oom-*' \) | sort)

echo "$name: ${executions:-0} executions in ${seconds} s, $units new corpus inputs," \
  "$(echo -n "$findings" | grep -c . || true) findings (exit $status)"
if [ "$status" -ne 0 ]; then
  # The sanitizer's or libFuzzer's report, and which input it was.
  grep -nE '^==[0-9]+==ERROR|^SUMMARY|runtime error|Running: |deadly signal|Test unit written' \
    "$work/fuzz.log" | head -20
  sed -n '/^==[0-9]*==ERROR/,/^SUMMARY/p' "$work/fuzz.log" | head -60
  for f in $findings; do
    echo "finding: $f ($(stat -c %s "$f") bytes)"
  done
  echo "full log: $work/fuzz.log"
fi
exit "$status"
