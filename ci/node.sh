#!/usr/bin/env bash
# The testbed's real node: containerd and runc (Debian), the CNI bridge (Debian's
# containernetworking-plugins), kubelet and kube-proxy (iptables mode) built from
# k8s.io/kubernetes, and CoreDNS on the host as the cluster's DNS — started as host processes
# against the control plane that ci/testbed.sh brought up. Called by ci/testbed.sh:
#
#   ci/node.sh up STATE BIN KUBECONFIG IMAGES   start the node (IMAGES: testbed/images.sh's folder)
#   ci/node.sh down STATE                       stop it and undo everything `up` did
#   ci/node.sh logs STATE                       the last lines of each component's log
#   ci/node.sh restart STATE BIN KUBECONFIG     drain, stop kubelet and containerd, start, uncordon
#   ci/node.sh dns-stop STATE | dns-start STATE BIN   stop or start CoreDNS (a deliberate fault)
#
# The network rule (../TESTBED.md): nothing for a pod, service or cluster address leaves the
# machine. Before the first pod runs, `up`
#   - takes ranges nothing on the machine routes (checked): pods 10.234.0.0/24 on the bridge
#     stsc-br0, services 10.233.0.0/18, the node's own address 10.235.0.1 on the loopback
#     link (kubelet, CoreDNS);
#   - routes them locally only: `blackhole` routes for 10.233.0.0/18 and 10.234.0.0/16 (the
#     bridge's /24 is more specific), so what kube-proxy has not translated dies here;
#   - drops, in the mangle table's POSTROUTING chain (after every NAT and routing decision, and
#     before any ACCEPT kube-proxy adds to FORWARD could matter), any packet leaving through the
#     uplink that comes from the pod range or is addressed to a pod, service or node address;
#   - masquerades nothing (the bridge plugin's ipMasq is off) and runs CoreDNS with no `forward`.
# `down` removes exactly what `up` added (recorded in STATE/node/undo), ip_forward included.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

POD_CIDR=10.234.0.0/24
POD_RANGE=10.234.0.0/16
SERVICE_RANGE=10.233.0.0/18
NODE_RANGE=10.235.0.0/16
NODE_IP=10.235.0.1
DNS_IP=10.233.0.10
NODE_NAME=stsc-node
BRIDGE=stsc-br0
CHAIN=STSC-NO-UPLINK

# The state folder of the real node that is up on this machine (one at a time: the ranges, the
# bridge and the chain are the machine's). /run is emptied at boot, as are the routes.
MARKER=/run/sts-conformance/real-node

log() { echo "testbed/node: $*" >&2; }
die() { log "error: $*"; exit 1; }

# undo CMD…: run CMD now and record how `down` reverses it (the line given by the caller).
remember() { echo "$*" >>"$n/undo"; }

uplink() { ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}'; }

# Refuses ranges the machine already routes or resolves through.
check_ranges() {
  local clash
  clash=$(python3 - "$POD_RANGE" "$SERVICE_RANGE" "$NODE_RANGE" <<PY
import ipaddress, sys
ours = [ipaddress.ip_network(r) for r in sys.argv[1:]]
routes = """$(ip -4 route show table all | awk '$1 ~ /^[0-9]/ {print $1}')"""
for line in routes.split():
    net = ipaddress.ip_network(line if "/" in line else line + "/32", strict=False)
    for r in ours:
        if net.overlaps(r):
            print(f"{r} overlaps the route {net} this machine has")
for ns in """$(awk '/^nameserver/ {print $2}' /etc/resolv.conf)""".split():
    for r in ours:
        if ipaddress.ip_address(ns) in r:
            print(f"the machine's resolver {ns} is inside {r}")
PY
) || die "cannot check the address ranges (python3)"
  [ -z "$clash" ] || die "$clash"
}

network_up() {
  local dev
  dev=$(uplink)
  [ -n "$dev" ] || die "no default route: cannot tell the uplink"
  echo "$dev" >"$n/uplink"
  check_ranges
  # The node's address lives on the loopback link (these kernels have no dummy links): local,
  # reachable from the pods through the bridge's gateway, routed nowhere else.
  ip addr add "$NODE_IP/32" dev lo
  remember ip addr del "$NODE_IP/32" dev lo
  ip route add blackhole "$SERVICE_RANGE"
  remember ip route del blackhole "$SERVICE_RANGE"
  ip route add blackhole "$POD_RANGE"
  remember ip route del blackhole "$POD_RANGE"
  iptables -t mangle -N "$CHAIN"
  iptables -t mangle -A "$CHAIN" -o "$dev" -s "$POD_RANGE" -j DROP
  iptables -t mangle -A "$CHAIN" -o "$dev" -d "$POD_RANGE" -j DROP
  iptables -t mangle -A "$CHAIN" -o "$dev" -d "$SERVICE_RANGE" -j DROP
  iptables -t mangle -A "$CHAIN" -o "$dev" -d "$NODE_RANGE" -j DROP
  iptables -t mangle -I POSTROUTING 1 -j "$CHAIN"
  remember "iptables -t mangle -D POSTROUTING -j $CHAIN; iptables -t mangle -F $CHAIN; iptables -t mangle -X $CHAIN"
  local forward
  forward=$(sysctl -n net.ipv4.ip_forward)
  # Pods reach services through kube-proxy's DNAT and back out of the bridge: forwarding.
  sysctl -qw net.ipv4.ip_forward=1
  remember sysctl -qw "net.ipv4.ip_forward=$forward"
}

start() { # start NAME CMD…: in the background, logged, pid recorded.
  local name=$1
  shift
  "$@" >"$n/logs/$name.log" 2>&1 &
  echo $! >"$n/pids/$name.pid"
}

stop_pid() { # stop_pid NAME: TERM, then KILL after 20 s, by the recorded pid only.
  local file="$n/pids/$1.pid" pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

containerd_up() {
  mkdir -p "$n/containerd" "$n/cni" "$n/cni-ipam"
  cat >"$n/containerd/config.toml" <<TOML
version = 2
root = "$n/containerd/root"
state = "$n/containerd/state"
[grpc]
  address = "$n/containerd/containerd.sock"
[ttrpc]
  address = "$n/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  stream_server_address = "127.0.0.1"
  enable_selinux = false
  # The machine's processes may not lower their OOM score (runc fails to set a sandbox's -998).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$n/cni"
TOML
  cat >"$n/cni/10-stsc.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "stsc",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$n/cni-ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "${POD_CIDR%.0/24}.1"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "loopback"}
  ]
}
JSON
  remember ip link del "$BRIDGE"
  containerd_start
  local ref tar
  while read -r ref tar; do
    ctr_ -n k8s.io images import --base-name "${ref%:*}" "$images/$tar" >/dev/null ||
      die "cannot import $tar into containerd"
  done <"$images/images"
  log "containerd up; images: $(ctr_ -n k8s.io images ls -q | grep -v '^sha256:' | tr '\n' ' ')"
}

containerd_start() {
  start containerd containerd --config "$n/containerd/config.toml"
  local deadline=$((SECONDS + 30))
  until ctr_ version >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "containerd did not answer within 30 s: $(tail -5 "$n/logs/containerd.log")"
    sleep 0.5
  done
}

ctr_() { ctr --address "$n/containerd/containerd.sock" "$@"; }

kubelet_up() {
  mkdir -p "$n/kubelet" "$n/pod-logs"
  : >"$n/resolv.conf"
  cat >"$n/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}, x509: {}}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$n/containerd/containerd.sock
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
resolvConf: $n/resolv.conf
podLogsDir: $n/pod-logs
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: "0%", nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
serializeImagePulls: false
YAML
  kubelet_start
}

kubelet_start() {
  start kubelet "$bin/kubelet" --config "$n/kubelet.yaml" --kubeconfig "$kubeconfig" \
    --root-dir "$n/kubelet" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v=1 \
    --node-labels disktype=ssd
}

proxy_up() {
  cat >"$n/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $kubeconfig}
mode: iptables
clusterCIDR: $POD_RANGE
hostnameOverride: $NODE_NAME
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [$NODE_IP/32]
conntrack: {maxPerCore: 0}
YAML
  start kube-proxy "$bin/kube-proxy" --config "$n/kube-proxy.yaml"
  remember "$bin/kube-proxy" --cleanup '>/dev/null 2>&1'
}

dns_start() { start coredns "$bin/coredns" -conf "$n/Corefile"; }

dns_up() {
  cat >"$n/Corefile" <<COREFILE
cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
    bind $NODE_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
}
# Everything else does not exist: no forward, nothing is asked outside the machine.
.:53 {
    bind $NODE_IP
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
COREFILE
  dns_start
  "$bin/kubectl" --kubeconfig "$kubeconfig" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: $DNS_IP
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-host
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: sts-conformance-testbed}
addressType: IPv4
endpoints:
- addresses: [$NODE_IP]
  conditions: {ready: true}
  nodeName: $NODE_NAME
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
YAML
}

# Chains kubelet and kube-proxy add (KUBE-*): those that were not there before `up` go at `down`.
kube_chains() {
  local table
  for table in filter nat mangle; do
    iptables -t "$table" -S 2>/dev/null | awk -v t="$table" '/^-N KUBE-/ {print t, $2}'
  done
}

remove_new_kube_chains() {
  local table chain rule
  kube_chains | grep -vxFf "$n/chains-before" | while read -r table chain; do
    iptables -t "$table" -S | grep -E -- "-j $chain( |\$)" | sed 's/^-A /-D /' | while read -r rule; do
      eval iptables -t "$table" "$rule" || true
    done
    iptables -t "$table" -F "$chain" || true
  done
  kube_chains | grep -vxFf "$n/chains-before" | while read -r table chain; do
    iptables -t "$table" -X "$chain" || true
  done
}

# Whether a process recorded in state folder $1 is alive.
alive() {
  local f
  for f in "$1"/pids/*.pid; do
    if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then return 0; fi
  done
  return 1
}

# A real node a killed run left behind (its processes gone, its network changes not) is
# undone before a new one starts; one that still runs is refused. Without the marker (a run of
# an older script), what only this testbed creates — the chain $CHAIN and the bridge $BRIDGE —
# identifies the leftovers: the chain, the bridge, the blackhole routes and the node address.
clear_stale() {
  if [ -f "$MARKER" ]; then
    local old
    old=$(cat "$MARKER")
    if alive "$old"; then die "a real node is up on this machine already (state in $old): ci/testbed.sh down with that state first"; fi
    if [ -d "$old" ]; then
      log "undoing the real node a killed run left (state in $old)"
      (n=$old bin='' kubeconfig='' && down) || die "cannot undo the real node a killed run left in $old"
    fi
    rm -f "$MARKER"
  fi
  if iptables -t mangle -S "$CHAIN" >/dev/null 2>&1 || ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "removing what a killed run of this testbed left: chain $CHAIN, bridge $BRIDGE, the blackhole routes of $SERVICE_RANGE and $POD_RANGE, $NODE_IP on lo"
    iptables -t mangle -D POSTROUTING -j "$CHAIN" 2>/dev/null || true
    iptables -t mangle -F "$CHAIN" 2>/dev/null || true
    iptables -t mangle -X "$CHAIN" 2>/dev/null || true
    ip link del "$BRIDGE" 2>/dev/null || true
    ip route del blackhole "$SERVICE_RANGE" 2>/dev/null || true
    ip route del blackhole "$POD_RANGE" 2>/dev/null || true
    ip addr del "$NODE_IP/32" dev lo 2>/dev/null || true
    "$bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
  fi
}

up() {
  clear_stale
  mkdir -p "$n/logs" "$n/pids" "$(dirname "$MARKER")"
  echo "$n" >"$MARKER"
  : >"$n/undo"
  kube_chains >"$n/chains-before"
  [ -d /run/containerd ] || remember rm -rf /run/containerd
  network_up
  containerd_up
  kubelet_up
  proxy_up
  dns_up
  wait_ready
  log "node $NODE_NAME Ready (kubelet $("$bin/kubelet" --version | awk '{print $2}'), containerd $(containerd --version | awk '{print $3}'))"
}

# Removes every pod from the node through the API (so kubelet tears each sandbox and its network
# down), then stops the processes and undoes the network changes in reverse order. Best effort:
# every step runs whatever the one before did; it fails at the end if anything is left.
down() {
  [ -d "$n" ] || return 0
  set +e
  if [ -f "$n/pids/kubelet.pid" ] && [ -f "${kubeconfig:-/nonexistent}" ] && [ -x "${bin:-}/kubectl" ]; then
    local k=("$bin/kubectl" --kubeconfig "$kubeconfig" --request-timeout=10s)
    "${k[@]}" delete pods --all-namespaces --all --grace-period=1 --wait=false >/dev/null 2>&1
    local deadline=$((SECONDS + 60))
    while [ -n "$(ctr_ -n k8s.io tasks ls -q 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do sleep 1; done
  fi
  stop_pid kube-proxy
  stop_pid coredns
  stop_pid kubelet
  # Whatever kubelet did not stop: containerd's own tasks, by id.
  if [ -S "$n/containerd/containerd.sock" ]; then
    local id
    for id in $(ctr_ -n k8s.io tasks ls -q 2>/dev/null); do
      ctr_ -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1
      ctr_ -n k8s.io tasks rm -f "$id" >/dev/null 2>&1
    done
  fi
  stop_pid containerd
  if [ -f "$n/chains-before" ]; then remove_new_kube_chains >/dev/null 2>&1; fi
  if [ -f "$n/undo" ]; then
    tac "$n/undo" | while read -r line; do eval "$line" >/dev/null 2>&1; done
  fi
  # kubelet's pod cgroups, and what kubelet and containerd mounted under the state folder.
  local c m
  for c in /sys/fs/cgroup/*/kubepods; do
    if [ -d "$c" ]; then find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; fi
  done
  for m in $(awk -v p="$n/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m"; done
  rm -rf "$n"
  if [ "$(cat "$MARKER" 2>/dev/null)" = "$n" ]; then rm -f "$MARKER"; fi
  set -e
  if [ -e "$n" ] || iptables -t mangle -S "$CHAIN" >/dev/null 2>&1 || ip -4 route show | grep -q "$POD_RANGE"; then
    die "the real node was not wholly removed (state left in $n)"
  fi
}

wait_ready() {
  local deadline=$((SECONDS + 120))
  until "$bin/kubectl" --kubeconfig "$kubeconfig" get node "$NODE_NAME" --no-headers 2>/dev/null | grep -q ' Ready'; do
    [ $SECONDS -lt $deadline ] || { logs >&2; die "the node did not become Ready within 120 s"; }
    sleep 1
  done
}

# A node "upgrade" as an operator does one: drain, stop kubelet and containerd, start them
# again, uncordon. The pods come back through their controllers; the volumes stay.
restart() {
  local k=("$bin/kubectl" --kubeconfig "$kubeconfig")
  "${k[@]}" drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --force --timeout=180s >&2
  stop_pid kubelet
  stop_pid containerd
  log "kubelet and containerd stopped; starting them again"
  containerd_start
  kubelet_start
  wait_ready
  "${k[@]}" uncordon "$NODE_NAME" >&2
  log "node $NODE_NAME restarted and uncordoned"
}

logs() {
  for f in "$n"/logs/*.log; do
    [ -f "$f" ] || continue
    echo "==> $f (last 40 lines)"
    tail -n 40 "$f"
  done
}

cmd=${1:-}
n="${2:?state directory}/node"
case "$cmd" in
  up) bin=$3 kubeconfig=$4 images=$5; up ;;
  down) bin=${3:-} kubeconfig=${4:-}; down ;;
  logs) logs ;;
  restart) bin=$3 kubeconfig=$4; restart ;;
  dns-stop) stop_pid coredns; log "CoreDNS stopped" ;;
  dns-start) bin=$3; dns_start; log "CoreDNS started" ;;
  *) echo "usage: ci/node.sh up STATE BIN KUBECONFIG IMAGES | down STATE [BIN KUBECONFIG] | logs STATE" >&2
     echo "       ci/node.sh restart STATE BIN KUBECONFIG | dns-stop STATE | dns-start STATE BIN" >&2; exit 2 ;;
esac
: "$root"
