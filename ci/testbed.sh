#!/usr/bin/env bash
# The local testbed: a real Kubernetes control plane built from Go modules, on this machine.
#
#   ci/testbed.sh up      build what is missing (testbed/build.sh), start the cluster, wait for it
#   ci/testbed.sh env     print the exports a run needs:  eval "$(ci/testbed.sh env)"
#   ci/testbed.sh down    stop every process `up` started and remove its data
#   ci/testbed.sh logs    print the components' logs (the last lines of each)
#   ci/testbed.sh status  say whether it is up
#   ci/testbed.sh restart-apiserver   stop and start the control plane (breaks every watch)
#
# What runs: etcd, kube-apiserver, kube-controller-manager (with the hostPath provisioner behind
# a default StorageClass `standard`) and kube-scheduler as host processes, started by kwokctl's
# binary runtime from the binaries testbed/build.sh built; three nodes simulated by kwok (one
# tainted like a control-plane node), whose pods go Pending → Running → Ready through the
# Stages in testbed/kwok/stages.yaml. Nothing is downloaded: `up` refuses to start when
# kwokctl plans a download. Everything listens on loopback, and no pod runs a container.
#
# Environment: STS_TESTBED_DIR (state; default ~/.local/state/sts-conformance/testbed),
# STS_TESTBED_CACHE (binaries; see testbed/build.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${STS_TESTBED_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/sts-conformance/testbed}
name=stsc
kubeconfig="$state/kubeconfig"

log() { echo "testbed: $*" >&2; }
die() { log "error: $*"; exit 1; }

kwok_env() {
  bin=$1
  export KWOK_WORKDIR="$state/kwok" KWOK_KUBECTL_BINARY="$bin/kubectl"
  KWOK_KUBE_VERSION=$("$bin/kube-apiserver" --version | awk '{print $2}')
  export KWOK_KUBE_VERSION
}

kubectl_() { "$bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

answers() {
  [ -f "$state/up" ] && "$bin/kubectl" --kubeconfig "$kubeconfig" --request-timeout=5s get --raw /readyz >/dev/null 2>&1
}

up() {
  bin=$("$root/testbed/build.sh" kubernetes etcd kwok)
  kwok_env "$bin"
  if answers; then log "already up ($kubeconfig)"; return 0; fi
  if [ -e "$state" ]; then
    log "clearing a testbed that no longer answers (its processes were ended)"
    down
  fi
  mkdir -p "$state"
  [ -d /tmp/hostpath_pv ] || touch "$state/owns-hostpath-dir"
  local args=(
    --name "$name" --runtime binary --kubeconfig "$kubeconfig" --wait 2m
    --etcd-binary "$bin/etcd" --kube-apiserver-binary "$bin/kube-apiserver"
    --kube-controller-manager-binary "$bin/kube-controller-manager"
    --kube-scheduler-binary "$bin/kube-scheduler" --kwok-controller-binary "$bin/kwok"
    --config "$root/testbed/kwok/cluster.yaml" --config "$root/testbed/kwok/stages.yaml"
  )
  local plan
  plan=$("$bin/kwokctl" --dry-run create cluster "${args[@]}" 2>&1) || die "kwokctl cannot plan the cluster: $plan"
  if grep -E '^# Download https?://' <<<"$plan"; then
    die "kwokctl would download the lines above; every binary must come from testbed/build.sh"
  fi
  log "starting the control plane (Kubernetes $KWOK_KUBE_VERSION) in $state"
  if ! "$bin/kwokctl" create cluster "${args[@]}" >"$state/create.log" 2>&1; then
    cat "$state/create.log" >&2
    logs_ >&2 || true
    die "the cluster did not start"
  fi
  touch "$state/up"
  # Nodes: kwok manages every node; one carries the control-plane taint, as on kubeadm clusters.
  for i in 0 1 2; do
    local taint=""
    if [ "$i" = 0 ]; then
      taint='  taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]'
    fi
    kubectl_ apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-$i$( [ "$i" = 0 ] && echo ', node-role.kubernetes.io/control-plane: ""')}
spec:
$taint
YAML
  done
  # Dynamic provisioning without any image: the controller manager's hostPath provisioner.
  kubectl_ apply -f - >/dev/null <<'YAML'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
YAML
  local deadline=$((SECONDS + 120))
  until [ "$(kubectl_ get nodes --no-headers 2>/dev/null | grep -c ' Ready')" = 3 ]; do
    [ $SECONDS -lt $deadline ] || { logs_ >&2; die "the nodes did not become Ready within 120s"; }
    sleep 1
  done
  until kubectl_ get serviceaccount default -n default >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { logs_ >&2; die "the service account controller did not start"; }
    sleep 1
  done
  log "up: $(kubectl_ version -o json | grep -m1 gitVersion | tr -d ' ,"') with 3 kwok nodes; KUBECONFIG=$kubeconfig"
}

down() {
  if [ -d "$state/kwok/clusters/$name" ]; then
    local bin
    bin=$("$root/testbed/build.sh" kubernetes etcd kwok 2>/dev/null)
    kwok_env "$bin"
    "$bin/kwokctl" delete cluster --name "$name" --kubeconfig "$kubeconfig" >&2 || log "kwokctl could not delete the cluster"
  fi
  # Whatever kwokctl left: the processes it recorded, by their pid files only.
  for pidfile in "$state"/kwok/clusters/"$name"/pids/*.pid; do
    [ -f "$pidfile" ] || continue
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  if [ -f "$state/owns-hostpath-dir" ]; then rm -rf /tmp/hostpath_pv; fi
  rm -rf "$state"
  log "down"
}

logs_() {
  local dir="$state/kwok/clusters/$name/logs"
  [ -d "$dir" ] || { echo "no testbed logs in $dir"; return 0; }
  for f in "$dir"/*.log; do
    echo "==> $f (last 40 lines)"
    tail -n 40 "$f"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env)
    [ -f "$state/up" ] || die "the testbed is not up (ci/testbed.sh up)"
    echo "export KUBECONFIG='$kubeconfig'"
    ;;
  logs) logs_ ;;
  status)
    bin=$("$root/testbed/build.sh" kubernetes etcd kwok 2>/dev/null)
    if answers; then echo "up: KUBECONFIG=$kubeconfig"; else echo "down"; exit 1; fi
    ;;
  restart-apiserver)
    # Stops kube-apiserver (by its recorded pid) and starts it again with the same command
    # line: every watch breaks, as on an API server upgrade. For the testbed's own tests.
    bin=$("$root/testbed/build.sh" kubernetes etcd kwok 2>/dev/null)
    kwok_env "$bin"
    "$bin/kwokctl" --name "$name" stop cluster >&2
    "$bin/kwokctl" --name "$name" start cluster >&2
    deadline=$((SECONDS + 60))
    until answers; do [ $SECONDS -lt $deadline ] || die "the API server did not come back"; sleep 1; done
    ;;
  *) echo "usage: ci/testbed.sh up|env|down|logs|status|restart-apiserver" >&2; exit 2 ;;
esac
