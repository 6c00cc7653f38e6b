#!/usr/bin/env bash
# `npm run test:cluster`: the chart on a real control plane on loopback (test/cluster): etcd,
# kube-apiserver, controller-manager, scheduler, kwok's fake nodes, the KEDA operator and its metrics
# API server. Installs what it needs once (scripts/install-cluster-tools.sh, scripts/install-chart-tools.sh;
# cached outside the clone by version), then runs the suites. When a tool cannot be installed here
# (no Go, no root for apt-get), the suites say what they skipped and why, and do not fail for it.
# SKIP_CLUSTER_TOOLS_INSTALL=1 skips the installation step. Arguments are passed to mocha.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node24.sh
if [ ! -d node_modules/mocha ]; then npm ci --no-audit --no-fund; fi

if [ "${SKIP_CLUSTER_TOOLS_INSTALL:-0}" != 1 ]; then
  start=$SECONDS
  if bash scripts/install-cluster-tools.sh && bash scripts/install-chart-tools.sh >/dev/null; then
    echo "[test:cluster] tools ready ($((SECONDS - start)) s)"
  else
    echo "[test:cluster] could not install the cluster tools here: the suites will say what they skip" >&2
  fi
fi

start=$SECONDS
set +e
npx mocha --file test/cluster/support/cluster.ts "${@:-test/cluster/**/*.cluster.ts}"
status=$?
set -e
echo "[test:cluster] suites: $((SECONDS - start)) s"
exit "$status"
