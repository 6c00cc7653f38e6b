#!/usr/bin/env bash
# Installs the tools the chart checks (test/chart) need into .tmp/bin, from the Go module proxy:
#   helm        renders and lints charts/stripe-salesforce-sync
#   promtool    checks and unit-tests the chart's alert rules and the dashboard's queries; built once
#               into ~/.cache/stripe-salesforce-sync/promtool-<version>/ (a few minutes cold) and copied
#   kubeconform (optional, --with-kubeconform) for checks against a cluster's schemas where they can be downloaded;
#               the tests validate offline with the kubernetes-models npm packages instead.
# Usage: scripts/install-chart-tools.sh [--with-kubeconform]
# With STRIPE_SYNC_PROMTOOL=later, promtool is taken only when it is already cached (.ci/run builds it
# in the background meanwhile and runs its checks afterwards).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.7.0}"
# The Prometheus module's v0.3xx.y versions are Prometheus 3.x releases.
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
cache="${STRIPE_SYNC_CACHE:-$HOME/.cache/stripe-salesforce-sync}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${repo_root}/.tmp/bin"
mkdir -p "${bin_dir}"

if ! command -v go >/dev/null 2>&1; then
  echo "install-chart-tools: Go is required (https://go.dev/dl/) to build helm from the module proxy" >&2
  exit 1
fi

# A helm built from source reports "v3.22" without the patch number; any v3.22 build is fine.
if [[ -x "${bin_dir}/helm" ]] && "${bin_dir}/helm" version --short 2>/dev/null | grep -q "^${HELM_VERSION%.*}"; then
  echo "install-chart-tools: helm already in ${bin_dir}"
else
  echo "install-chart-tools: building helm ${HELM_VERSION} into ${bin_dir}"
  GOBIN="${bin_dir}" GOFLAGS="-buildvcs=false" go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
fi

promtool_dir="${cache}/promtool-${PROMETHEUS_VERSION}"
if [[ ! -x "${promtool_dir}/promtool" && "${STRIPE_SYNC_PROMTOOL:-}" == "later" ]]; then
  echo "install-chart-tools: promtool is not cached yet; it is built later (STRIPE_SYNC_PROMTOOL=later)"
  "${bin_dir}/helm" version --short
  exit 0
fi
if [[ ! -x "${promtool_dir}/promtool" ]]; then
  echo "install-chart-tools: building promtool (github.com/prometheus/prometheus ${PROMETHEUS_VERSION}) into ${promtool_dir}"
  mkdir -p "${promtool_dir}"
  GOBIN="${promtool_dir}" GOFLAGS="-buildvcs=false" nice -n 10 go install "github.com/prometheus/prometheus/cmd/promtool@${PROMETHEUS_VERSION}"
fi
cp "${promtool_dir}/promtool" "${bin_dir}/promtool"

if [[ "${1:-}" == "--with-kubeconform" ]]; then
  if [[ -x "${bin_dir}/kubeconform" ]]; then
    echo "install-chart-tools: kubeconform already in ${bin_dir}"
  else
    echo "install-chart-tools: building kubeconform ${KUBECONFORM_VERSION} into ${bin_dir}"
    GOBIN="${bin_dir}" GOFLAGS="-buildvcs=false" go install "github.com/yannh/kubeconform/cmd/kubeconform@${KUBECONFORM_VERSION}"
  fi
fi

"${bin_dir}/helm" version --short
"${bin_dir}/promtool" --version | head -1
