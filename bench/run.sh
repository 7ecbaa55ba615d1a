#!/usr/bin/env bash
# Registration at scale: the runs behind docs/benchmarks.md ("Registration
# at scale"). Needs Kamailio (and its db_text module), like the interop
# tests. Run it on an otherwise idle machine: every run reports the CPU
# used by other processes ("other"), which should be about zero.
#
#   bash bench/run.sh [RESULTS.jsonl]
#
# Each run appends one JSON line to RESULTS.jsonl (default
# /tmp/regscale.jsonl) and logs a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/regscale.jsonl}"

for n in 1000 10000; do
  echo "== $n accounts, 5 runs"
  go test -count=1 -run '^TestRegistrationScale$' -v -timeout 20m ./bench/ \
    -args -accounts="$n" -runs=5 -deadline=90s -json="$out" |
    grep -v 'Unhandled sip response' | grep -E '^ +(regscale_test.go:[0-9]+: run|registered in|per account|unregistered in|[0-9]+ responses)|^(--- |ok|FAIL)'
done
echo "results appended to $out"
