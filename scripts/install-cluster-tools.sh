#!/usr/bin/env bash
# Installs what the cluster suite (test/cluster, `npm run test:cluster`) runs, once per machine, into
# a cache outside the clone keyed by version (versions in scripts/cluster-tools.env):
#   etcd                         Debian's etcd-server package (apt-get; needs root or sudo)
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#                                built from the k8s.io/kubernetes Go module through a wrapper module
#                                (its go.mod replaces the k8s.io/* staging modules with local paths,
#                                which `go install` refuses)   -> $cache/k8s-<version>/
#   kwok                         fake nodes and pod lifecycles, sigs.k8s.io/kwok  -> $cache/kwok-<version>/
#   keda-operator, keda-adapter  the KEDA operator and its metrics API server, from the
#                                github.com/kedacore/keda/v2 Go module (wrapper module, for its
#                                replace line), and KEDA's CRDs from the same module's source
#                                                                                  -> $cache/keda-<version>/
#   prometheus-operator CRDs     ServiceMonitor, PodMonitor, PrometheusRule from the
#                                github.com/prometheus-operator/prometheus-operator module's source
#                                                                                  -> $cache/prometheus-operator-<version>/
# Each directory gets a `.complete` marker once everything in it is built, so an interrupted build
# starts over instead of leaving half a tool set; a lock keeps two runs from building at once.
# Prints the time each step took. Usage: scripts/install-cluster-tools.sh [--check]
#   --check   only report what is missing (exit 1 when something is), build nothing.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/cluster-tools.env
. "$repo_root/scripts/cluster-tools.env"
cache="${STRIPE_SYNC_CACHE:-$HOME/.cache/stripe-salesforce-sync}"
mkdir -p "$cache"

say() { printf '[cluster-tools] %s\n' "$*" >&2; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "needs root to run: $*"; return 1; fi
}

k8s_dir="$cache/k8s-$K8S_VERSION"
kwok_dir="$cache/kwok-$KWOK_VERSION"
keda_dir="$cache/keda-$KEDA_VERSION"
promop_dir="$cache/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"

missing() {
  local out=()
  command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || out+=("etcd")
  for d in "$k8s_dir" "$kwok_dir" "$keda_dir" "$keda_dir/crds" "$promop_dir"; do
    [ -f "$d/.complete" ] || out+=("${d#"$cache"/}")
  done
  printf '%s\n' "${out[@]}"
}

if [ "${1:-}" = "--check" ]; then
  m="$(missing)"
  if [ -n "$m" ]; then say "missing: $(echo "$m" | tr '\n' ' ')"; exit 1; fi
  say "all present under $cache"
  exit 0
fi

if [ -z "$(missing)" ]; then
  say "all present under $cache"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  say "Go is needed to build the control plane, kwok and KEDA from the Go module proxy: https://go.dev/dl/"
  exit 1
fi

exec 9>"$cache/.cluster-tools.lock"
if ! flock -n 9; then
  say "another run is building the tools; waiting for it"
  flock 9
fi

total_start=$SECONDS
timed() {
  local what="$1"
  shift
  local start=$SECONDS
  "$@"
  say "$what: $((SECONDS - start)) s"
}

# Go builds share the machine: run them at a lower priority.
gobuild() { nice -n 10 go build "$@"; }

# Module directory of a downloaded module version (downloads it when needed).
module_dir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
module_gomod() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p'; }

# Prints the replace directives of a go.mod, one per line; local staging paths
# (`k8s.io/X => ./staging/src/k8s.io/X`) become the published module at `$2`.
replaces_of() {
  local gomod="$1" staging_version="${2:-}"
  awk '
    /^replace[[:space:]]*\($/ { block = 1; next }
    block && /^\)/ { block = 0; next }
    block && /=>/ { sub(/^[[:space:]]+/, ""); print; next }
    /^replace[[:space:]]+[^(]/ { sub(/^replace[[:space:]]+/, ""); print }
  ' "$gomod" | sed -E "s#^([^ ]+)( [^ ]+)? => \./staging/src/([^ ]+)\$#\1 => \3 ${staging_version}#"
}

# Writes a wrapper module requiring $module@$version, repeating its replaces, importing $packages.
write_wrapper() {
  local dir="$1" module="$2" version="$3" staging_version="$4"
  shift 4
  mkdir -p "$dir"
  local gomod
  gomod="$(module_gomod "$module@$version")"
  {
    echo "module wrapper.local/$(basename "$dir")"
    echo
    echo "go $(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/').0"
    echo
    echo "require $module $version"
    echo
    echo "replace ("
    replaces_of "$gomod" "$staging_version" | sed 's/^/\t/'
    echo ")"
  } >"$dir/go.mod"
  {
    echo "//go:build tools"
    echo
    echo "package tools"
    echo
    echo "import ("
    for p in "$@"; do echo "	_ \"$p\""; done
    echo ")"
  } >"$dir/tools.go"
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy)
}

install_etcd() {
  if command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ]; then return; fi
  say "installing etcd (Debian package etcd-server)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
  # The package starts a system etcd on 2379; the suite runs its own on other ports.
  if command -v systemctl >/dev/null 2>&1; then as_root systemctl disable --now etcd >/dev/null 2>&1 || true; fi
}

build_kubernetes() {
  [ -f "$k8s_dir/.complete" ] && return
  local minor="${K8S_VERSION#v1.}" build="$cache/build/k8s-$K8S_VERSION"
  minor="${minor%%.*}"
  say "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $K8S_VERSION (about 10 minutes cold on 2 cores)"
  write_wrapper "$build" k8s.io/kubernetes "$K8S_VERSION" "v0.${K8S_VERSION#v1.}" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  mkdir -p "$k8s_dir"
  # Without the version stamp the server reports v0.0.0-master and charts' kubeVersion checks fail.
  local pkg="k8s.io/component-base/version"
  (cd "$build" && gobuild -o "$k8s_dir/" \
    -ldflags "-X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
  touch "$k8s_dir/.complete"
}

build_kwok() {
  [ -f "$kwok_dir/.complete" ] && return
  say "building kwok $KWOK_VERSION"
  mkdir -p "$kwok_dir/stages"
  GOBIN="$kwok_dir" nice -n 10 go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok fakes nodes and pods by the Stages it is given: the module's own "fast" stages (nodes turn
  # Ready, pods Running and Ready at once, deleted pods go) and a lease heartbeat for the nodes.
  local src
  src="$(module_dir "sigs.k8s.io/kwok@$KWOK_VERSION")"
  cp "$src/kustomize/stage/node/fast/node-initialize.yaml" \
    "$src/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
    "$src/kustomize/stage/pod/fast/pod-ready.yaml" "$src/kustomize/stage/pod/fast/pod-complete.yaml" \
    "$src/kustomize/stage/pod/fast/pod-delete.yaml" "$kwok_dir/stages/"
  chmod u+w "$kwok_dir"/stages/*.yaml
  touch "$kwok_dir/.complete"
}

build_keda() {
  [ -f "$keda_dir/.complete" ] && return
  local build="$cache/build/keda-$KEDA_VERSION"
  say "building keda-operator and keda-adapter $KEDA_VERSION (about 8 minutes cold on 2 cores)"
  write_wrapper "$build" github.com/kedacore/keda/v2 "$KEDA_VERSION" "" \
    github.com/kedacore/keda/v2/cmd/operator github.com/kedacore/keda/v2/cmd/adapter
  local ver="github.com/kedacore/keda/v2/version"
  (cd "$build" && gobuild -o "$keda_dir/keda-operator" -ldflags "-X $ver.Version=${KEDA_VERSION#v}" \
    github.com/kedacore/keda/v2/cmd/operator)
  (cd "$build" && gobuild -o "$keda_dir/keda-adapter" -ldflags "-X $ver.Version=${KEDA_VERSION#v}" \
    github.com/kedacore/keda/v2/cmd/adapter)
  touch "$keda_dir/.complete"
}

fetch_keda_crds() {
  [ -f "$keda_dir/crds/.complete" ] && return
  say "fetching the KEDA CRDs $KEDA_VERSION"
  local src
  src="$(module_dir "github.com/kedacore/keda/v2@$KEDA_VERSION")"
  mkdir -p "$keda_dir/crds"
  # keda.sh (ScaledObject, TriggerAuthentication, ...) and eventing.keda.sh (CloudEventSource):
  # the operator waits for all of them at start.
  cp "$src"/config/crd/bases/keda.sh_*.yaml "$src"/config/crd/bases/eventing.keda.sh_*.yaml "$keda_dir/crds/"
  chmod u+w "$keda_dir"/crds/*.yaml
  touch "$keda_dir/crds/.complete"
}

fetch_prometheus_operator_crds() {
  [ -f "$promop_dir/.complete" ] && return
  say "fetching the prometheus-operator CRDs $PROMETHEUS_OPERATOR_VERSION"
  local src
  src="$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")"
  mkdir -p "$promop_dir/crds"
  for crd in servicemonitors podmonitors prometheusrules; do
    cp "$src/example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml" "$promop_dir/crds/"
  done
  chmod u+w "$promop_dir"/crds/*.yaml
  touch "$promop_dir/.complete"
}

timed "etcd" install_etcd
timed "prometheus-operator CRDs" fetch_prometheus_operator_crds
timed "kwok" build_kwok
timed "kubernetes" build_kubernetes
timed "keda" build_keda
timed "keda CRDs" fetch_keda_crds
say "all present under $cache ($((SECONDS - total_start)) s)"
