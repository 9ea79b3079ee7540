#!/usr/bin/env bash
# require-tests.sh SUITE LOG: fails unless the suite's log shows at least one passed test and no failure.
# A suite that silently runs nothing (a misspelt cfg, a wrong path) must not pass as green.
set -euo pipefail
suite=$1 log=$2
# cargo and wasm-bindgen-test print "test result: ok. N passed; M failed"; node --test "ℹ pass N", "ℹ fail M".
read -r passed failed < <(awk '
  match($0, /test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed/) {
    split(substr($0, RSTART, RLENGTH), w, " "); p += w[4]; f += w[6] }
  /^ℹ pass [0-9]+/ { p += $3 }
  /^ℹ fail [0-9]+/ { f += $3 }
  END { print p + 0, f + 0 }' "$log")
if [ "$failed" != 0 ] || [ "$passed" = 0 ]; then
  echo "$suite suite: $passed passed, $failed failed: FAILED (a suite must run at least one test)" >&2
  exit 1
fi
echo "$suite suite: $passed tests passed"
