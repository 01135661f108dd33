#!/usr/bin/env bash
# Validates a Kubernetes upgrade on minikube: start the old version, prepare the upgrade
# workload, upgrade the cluster in place, verify, clean up. (kind clusters cannot be upgraded
# in place: use minikube or a real cluster.) Needs minikube, a driver for it, and cargo.
#
#   ci/upgrade-on-minikube.sh [OLD_VERSION] [NEW_VERSION]   e.g. v1.32.5 v1.33.1
#
# Results: ./results/baseline.json, ./results/upgrade-junit.xml, ./results/upgrade/<workload>/.
set -euo pipefail
cd "$(dirname "$0")/.."

old="${1:-v1.32.5}"
new="${2:-v1.33.1}"
profile="sts-conformance-upgrade-$$"

for tool in minikube kubectl cargo; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 3; }
done

cleanup() { minikube delete --profile "$profile" >/dev/null 2>&1 || true; }
trap cleanup EXIT

cargo build --release --locked
mkdir -p results

minikube start --profile "$profile" --kubernetes-version="$old" --wait=all
./target/release/sts-conformance upgrade prepare \
  --context "$profile" \
  --baseline results/baseline.json

minikube start --profile "$profile" --kubernetes-version="$new" --wait=all

status=0
./target/release/sts-conformance upgrade verify \
  --context "$profile" \
  --cleanup \
  --junit results/upgrade-junit.xml \
  --output-dir results/upgrade || status=$?
echo "upgrade verify exited with $status; results in results/"
exit "$status"
