#!/usr/bin/env bash
# Builds the testbed's upstream components from the Go module proxy and prints the folder that
# holds them. Each component's module (testbed/<component>/go.mod, go.sum) pins its version; the
# binaries are cached outside the clone under a key made of those files, the build flags and the
# Go version, so a second run on the same machine builds nothing. Nothing here needs the cache.
#
#   testbed/build.sh [COMPONENT…]     components: kubernetes etcd kwok coredns (default: all)
#
# Environment: STS_TESTBED_CACHE (default ~/.cache/sts-conformance/testbed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${STS_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sts-conformance/testbed}
export GOFLAGS=-mod=readonly GOTOOLCHAIN=local CGO_ENABLED=0

log() { echo "testbed/build: $*" >&2; }

# A component's cache key: its pinned module files, its build function and the Go version.
key_of() {
  { cat "$here/$1/go.mod" "$here/$1/go.sum"; declare -f "build_$1"; go version; } | sha256sum | cut -c1-16
}

# version_of MODULE COMPONENT: the version COMPONENT's go.mod requires of MODULE.
version_of() {
  (cd "$here/$2" && go list -m -f '{{.Version}}' "$1")
}

build_kubernetes() {
  local out=$1 v minor now
  v=$(version_of k8s.io/kubernetes kubernetes)
  minor=${v#v1.}; minor=${minor%%.*}
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$now"
  done
  (cd "$here/kubernetes" && go build -trimpath -tags selinux,notest -ldflags "$ld" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
}

build_etcd() {
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$1/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  (cd "$here/kwok" && go build -trimpath -ldflags "-s -w" \
    -o "$1/" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl)
}

build_coredns() {
  (cd "$here/coredns" && go build -trimpath -ldflags "-s -w" -o "$1/coredns" github.com/coredns/coredns)
}

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(kubernetes etcd kwok coredns)
for c in "${components[@]}"; do
  [ -f "$here/$c/go.mod" ] || { log "unknown component '$c' (no $here/$c/go.mod)"; exit 2; }
  dir="$cache/$c-$(key_of "$c")"
  if [ -f "$dir/.complete" ]; then
    log "$c: cached in $dir"
  else
    log "$c: building into $dir (the first build takes long on a small machine)"
    start=$(date +%s)
    rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
    "build_$c" "$dir.tmp"
    rm -rf "$dir"; mv "$dir.tmp" "$dir"; touch "$dir/.complete"
    log "$c: built in $(( $(date +%s) - start )) s"
  fi
  mkdir -p "$cache/bin"
  for f in "$dir"/*; do ln -sfn "$f" "$cache/bin/$(basename "$f")"; done
done
echo "$cache/bin"
