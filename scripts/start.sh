#!/usr/bin/env bash
# `npm start`: runs the service locally (role `all` by default) on Node.js 24 with the embedded
# queue, the in-memory store and the Salesforce emulator. Installs Node 24 and the dependencies
# on first use. Arguments are passed to src/main.ts (e.g. `npm start -- worker`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node24.sh
if [ ! -d node_modules/tsx ]; then npm ci --no-audit --no-fund; fi
if [ "$#" -eq 0 ]; then set -- all; fi
exec node --import tsx src/main.ts "$@"
