#!/usr/bin/env bash
# The local testbed: a real Kubernetes control plane built from Go modules, on this machine.
#
#   ci/testbed.sh up [--nodes kwok|real]
#                         build what is missing (testbed/build.sh), start the cluster, wait for it
#   ci/testbed.sh env     print the exports a run needs:  eval "$(ci/testbed.sh env)"
#   ci/testbed.sh down    stop every process `up` started and remove its data
#   ci/testbed.sh logs    print the components' logs (the last lines of each)
#   ci/testbed.sh status  say whether it is up, with every process it started running
#   ci/testbed.sh restart-apiserver   stop and start the control plane (breaks every watch)
#   ci/testbed.sh restart-node        real node: drain, stop kubelet and containerd, start, uncordon
#   ci/testbed.sh dns stop|start      real node: stop or start CoreDNS (a deliberate fault)
#
# What runs: etcd, kube-apiserver, kube-controller-manager (with the hostPath provisioner behind
# a default StorageClass `standard`) and kube-scheduler as host processes, started by kwokctl's
# binary runtime from the binaries testbed/build.sh built; three nodes simulated by kwok (one
# tainted like a control-plane node), whose pods go Pending → Running → Ready through the
# Stages in testbed/kwok/stages.yaml. Nothing is downloaded: `up` refuses to start when
# kwokctl plans a download. Everything listens on loopback, and no pod runs a container.
#
# `--nodes real` starts one real node instead (ci/node.sh): kubelet on containerd, the CNI
# bridge, kube-proxy and CoreDNS, with images built locally (testbed/images.sh) and the network
# rule applied before the first pod. `env` then also prints the image map the scenarios need.
# Beside it, one kwok node tainted like a control plane (and without the real node's disktype
# label), so that a DaemonSet's toleration and nodeSelector have a node to decide: no pod
# without that toleration goes there, so every other pod runs on the real node.
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
  local nodes=kwok
  while [ $# -gt 0 ]; do
    case "$1" in
      --nodes) nodes=${2:-}; shift 2 ;;
      --nodes=*) nodes=${1#--nodes=}; shift ;;
      *) die "unknown option '$1' (up [--nodes kwok|real])" ;;
    esac
  done
  case "$nodes" in kwok | real) ;; *) die "--nodes takes kwok or real, not '$nodes'" ;; esac
  local components=(kubernetes etcd kwok)
  [ "$nodes" = kwok ] || components+=(coredns)
  bin=$("$root/testbed/build.sh" "${components[@]}")
  kwok_env "$bin"
  if answers; then
    [ "$(cat "$state/nodes" 2>/dev/null || echo kwok)" = "$nodes" ] ||
      die "already up with $(cat "$state/nodes" 2>/dev/null || echo kwok) nodes; ci/testbed.sh down first"
    log "already up ($kubeconfig)"
    return 0
  fi
  local images=""
  if [ "$nodes" = real ]; then images=$("$root/testbed/images.sh"); fi
  if [ -e "$state" ]; then
    log "clearing a testbed that no longer answers (its processes were ended)"
    down
  fi
  mkdir -p "$state"
  [ -d /tmp/hostpath_pv ] || touch "$state/owns-hostpath-dir"
  # seed 004's fluentd DaemonSet mounts /var/log and /var/lib/docker/containers from the node;
  # containerd creates a missing host path, and `down` removes it again (only if empty).
  [ -d /var/lib/docker ] || touch "$state/owns-docker-dir"
  local args=(
    --name "$name" --runtime binary --kubeconfig "$kubeconfig" --wait 2m
    --etcd-binary "$bin/etcd" --kube-apiserver-binary "$bin/kube-apiserver"
    --kube-controller-manager-binary "$bin/kube-controller-manager"
    --kube-scheduler-binary "$bin/kube-scheduler" --kwok-controller-binary "$bin/kwok"
    --config "$root/testbed/kwok/cluster.yaml"
    # maxUnavailable for StatefulSets is alpha: on, so that e2e-max-unavailable is judged here
    # (a cluster without it drops the field, and the claim is skipped with that reason).
    --kube-feature-gates MaxUnavailableStatefulSet=true
  )
  # kwok simulates only the nodes annotated as its own, and the pods bound to them.
  args+=(--config "$root/testbed/kwok/stages.yaml")
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
  echo "$nodes" >"$state/nodes"
  if [ "$nodes" = real ]; then
    echo "$images" >"$state/images"
    "$root/ci/node.sh" up "$state" "$bin" "$kubeconfig" "$images" || { logs_ >&2; die "the real node did not start"; }
  fi
  # Nodes: kwok manages every node; one carries the control-plane taint, as on kubeadm clusters,
  # and one worker the label seed 004's nodeSelector asks for (disktype: ssd). Beside a real node,
  # only the tainted one.
  for i in 0 1 2; do
    [ "$nodes" = kwok ] || [ "$i" = 0 ] || break
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
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-$i$( [ "$i" = 0 ] && echo ', node-role.kubernetes.io/control-plane: ""')$( [ "$i" = 1 ] && echo ', disktype: ssd')}
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
  local deadline=$((SECONDS + 120)) want=3
  [ "$nodes" = kwok ] || want=2
  until [ "$(kubectl_ get nodes --no-headers 2>/dev/null | grep -c ' Ready')" = $want ]; do
    [ $SECONDS -lt $deadline ] || { logs_ >&2; die "the nodes did not become Ready within 120s"; }
    sleep 1
  done
  until kubectl_ get serviceaccount default -n default >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { logs_ >&2; die "the service account controller did not start"; }
    sleep 1
  done
  local described="3 kwok nodes"
  [ "$nodes" = kwok ] || described="a real node (and kwok-node-0, tainted)"
  log "up: $(kubectl_ version -o json | grep -m1 gitVersion | tr -d ' ,"') with $described; KUBECONFIG=$kubeconfig"
}

down() {
  local bin
  bin=$("$root/testbed/build.sh" kubernetes etcd kwok 2>/dev/null)
  # The real node first, while the API server still answers (its pods are deleted through it).
  if [ -d "$state/node" ]; then
    # Its record of what to undo lives in the state folder: keep that folder until it is done.
    "$root/ci/node.sh" down "$state" "$bin" "$kubeconfig" ||
      die "the real node could not be removed; its state is kept in $state/node (ci/testbed.sh down again)"
  fi
  if [ -d "$state/kwok/clusters/$name" ]; then
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
  if [ -f "$state/owns-docker-dir" ]; then rmdir /var/lib/docker/containers /var/lib/docker 2>/dev/null || true; fi
  rm -rf "$state"
  log "down"
}

# Each process kwokctl (the control plane) or ci/node.sh (the real node) recorded, and whether it
# still runs: nothing restarts them, so a component that exited stays gone (its log says why).
components_() {
  local pidfile pid
  for pidfile in "$state"/kwok/clusters/"$name"/pids/*.pid "$state"/node/pids/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      echo "$(basename "$pidfile" .pid) (pid $pid): running"
    else
      echo "$(basename "$pidfile" .pid) (pid $pid): NOT RUNNING"
    fi
  done
}

logs_() {
  if [ -d "$state/node" ]; then "$root/ci/node.sh" logs "$state"; fi
  local dir="$state/kwok/clusters/$name/logs"
  [ -d "$dir" ] || { echo "no testbed logs in $dir"; return 0; }
  echo "==> the testbed's processes"
  components_
  for f in "$dir"/*.log; do
    echo "==> $f (last 40 lines)"
    tail -n 40 "$f"
  done
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  env)
    [ -f "$state/up" ] || die "the testbed is not up (ci/testbed.sh up)"
    echo "export KUBECONFIG='$kubeconfig' STS_TESTBED_NODES='$(cat "$state/nodes" 2>/dev/null || echo kwok)'"
    if [ -f "$state/images" ]; then
      echo "export STS_CONFORMANCE_IMAGE_MAP='@$(cat "$state/images")/image-map'"
    fi
    ;;
  logs) logs_ ;;
  status)
    bin=$("$root/testbed/build.sh" kubernetes etcd kwok 2>/dev/null)
    if answers; then echo "up: KUBECONFIG=$kubeconfig"; else echo "down"; exit 1; fi
    if components_ | grep 'NOT RUNNING'; then exit 1; fi
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
  restart-node | dns)
    [ -d "$state/node" ] || die "no real node (ci/testbed.sh up --nodes real)"
    bin=$("$root/testbed/build.sh" kubernetes coredns 2>/dev/null)
    if [ "$1" = restart-node ]; then
      "$root/ci/node.sh" restart "$state" "$bin" "$kubeconfig"
    else
      case "${2:-}" in
        stop) "$root/ci/node.sh" dns-stop "$state" ;;
        start) "$root/ci/node.sh" dns-start "$state" "$bin" ;;
        *) die "usage: ci/testbed.sh dns stop|start" ;;
      esac
    fi
    ;;
  *) echo "usage: ci/testbed.sh up [--nodes kwok|real]|env|down|logs|status|restart-apiserver|restart-node|dns stop|start" >&2; exit 2 ;;
esac
