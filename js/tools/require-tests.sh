#!/usr/bin/env bash
# require-tests.sh SUITE LOG: fails unless the suite's log shows at least one passed test and no failure.
# A suite that silently runs nothing (a misspelt cfg, a wrong path) must not pass as green. Skipped
# tests are listed with their reasons (the engine that lacks a feature, and which). The counts line is
# also appended to $TEST_COUNTS when it is set, for `make test`'s summary.
set -euo pipefail
suite=$1 log=$2
# cargo and wasm-bindgen-test print "test result: ok. N passed; M failed; K ignored";
# node --test "ℹ pass N", "ℹ fail M", "ℹ skipped K".
read -r passed failed skipped < <(awk '
  match($0, /test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed; [0-9]+ ignored/) {
    split(substr($0, RSTART, RLENGTH), w, " "); p += w[4]; f += w[6]; s += w[8] }
  /^ℹ pass [0-9]+/ { p += $3 }
  /^ℹ fail [0-9]+/ { f += $3 }
  /^ℹ skipped [0-9]+/ { s += $3 }
  END { print p + 0, f + 0, s + 0 }' "$log")
if [ "$failed" != 0 ] || [ "$passed" = 0 ]; then
  echo "$suite suite: $passed passed, $failed failed: FAILED (a suite must run at least one test)" >&2
  exit 1
fi
line="$suite suite: $passed tests passed, $skipped skipped"
echo "$line"
# The spec reporter marks a skipped test "﹣ name (…ms) # reason".
grep -E '^\s*﹣ ' "$log" | sed -E 's/^\s*﹣ /  skipped: /; s/ \([0-9.]+ms\) # / -- /' || true
if [ -n "${TEST_COUNTS:-}" ]; then
  echo "$line" >> "$TEST_COUNTS"
  grep -E '^\s*﹣ ' "$log" | sed -E 's/^\s*﹣ /  skipped: /; s/ \([0-9.]+ms\) # / -- /' >> "$TEST_COUNTS" || true
fi
