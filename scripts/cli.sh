#!/usr/bin/env bash
# `npm run cli -- <command> [options]`: the operations commands (and the roles) from the sources,
# on Node.js 24, without a build. In the image: `node dist/main.js <command>`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node24.sh
exec node --import tsx src/main.ts "$@"
