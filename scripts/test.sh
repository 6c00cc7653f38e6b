#!/usr/bin/env bash
# `npm test`: installs what the tests need (scripts/test-setup.sh), runs every suite with mocha
# against real servers, then runs the SQS suites again against moto, a second SQS implementation.
# With arguments, runs only those mocha specs (e.g. `npm test -- test/sync`), and no moto pass.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/test-setup.sh
mkdir -p .tmp
if [ "$#" -gt 0 ]; then exec npx mocha "$@"; fi

set +e
npx mocha 'test/**/*.test.ts' 2>&1 | tee .tmp/test-output.txt
status=${PIPESTATUS[0]}
printf '\n== SQS suites again against moto (a second SQS implementation) ==\n'
SQS_TEST_SERVER=moto npx mocha 'test/webhook/**/*.test.ts' 'test/worker/**/*.test.ts' 'test/e2e/**/*.test.ts' 2>&1 |
  tee .tmp/test-output-moto.txt
moto_status=${PIPESTATUS[0]}
set -e
count() { grep -Eo "^ *[0-9]+ $1" "$2" | tail -1 | grep -Eo '[0-9]+' || echo 0; }
passed=$(($(count passing .tmp/test-output.txt) + $(count passing .tmp/test-output-moto.txt)))
failed=$(($(count failing .tmp/test-output.txt) + $(count failing .tmp/test-output-moto.txt)))
skipped=$(($(count pending .tmp/test-output.txt) + $(count pending .tmp/test-output-moto.txt)))
printf '\ntests: %s passed, %s failed, %s skipped\n' "$passed" "$failed" "$skipped"
if [ "$status" -ne 0 ] || [ "$moto_status" -ne 0 ]; then exit 1; fi
