#!/usr/bin/env bash
# Creates a throwaway kind cluster, runs the StatefulSet conformance suite against it, and
# deletes the cluster again, whatever happened. Needs docker (or podman), kind and cargo.
#
#   ci/run-on-kind.sh [NODE_VERSION]      e.g. ci/run-on-kind.sh v1.33.1
#
# Results: ./results/junit.xml and ./results/out/<scenario>/ (timeline, verdicts, diagnostics).
# The exit code is the harness's: 0 every claim held, 1 a claim failed, 2 bad input,
# 3 the cluster could not be used.
set -euo pipefail
cd "$(dirname "$0")/.."

node_version="${1:-v1.33.1}"
cluster="sts-conformance-$$"

for tool in kind kubectl cargo; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 3; }
done

cleanup() { kind delete cluster --name "$cluster" >/dev/null 2>&1 || true; }
trap cleanup EXIT

cargo build --release --locked
./target/release/sts-conformance validate scenarios

kind create cluster --name "$cluster" --image "kindest/node:${node_version}" --wait 120s
export KUBECONFIG
KUBECONFIG="$(mktemp)"
kind get kubeconfig --name "$cluster" > "$KUBECONFIG"

status=0
./target/release/sts-conformance run \
  --context "kind-${cluster}" \
  --parallel 2 \
  --junit results/junit.xml \
  --output-dir results/out || status=$?
echo "sts-conformance exited with $status; results in results/"
exit "$status"
