#!/usr/bin/env bash
# A local Kubernetes cluster with a real node, for the demo and the end-to-end tests:
#
#   scripts/local-cluster.sh up DIR        start it; DIR/kubeconfig is the cluster admin's
#   scripts/local-cluster.sh forward DIR LOCAL:PORT IP:PORT
#                                          LOCAL:PORT (a loopback address) here reaches IP:PORT, a
#                                          Service, pod or node address inside the cluster
#   scripts/local-cluster.sh down DIR      stop it and undo everything `up` did to this machine
#   scripts/local-cluster.sh host-state    what of this machine `up` changes and `down` restores
#
# Control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler (1.20.2, from
# scripts/k8s-binaries.sh). Node `cpu-node`: containerd + runc, the CNI bridge, kubelet and
# kube-proxy (iptables), and dnsmasq answering <svc>.<ns>.svc.cluster.local from the cluster's
# Services; the project's images (scripts/images.sh) are imported into containerd.
#
# Network safety: all of it lives in a network namespace of its own with no default route and no
# link to this machine (so the API server reaches kubelet: kubectl logs, exec and port-forward
# work). The only ways in are Unix sockets bridged by socat: the API server on 127.0.0.1:16443
# here, and `forward`. Blackhole routes for the node, pod and Service ranges are installed on this
# machine first, so nothing addressed to them can leave it.
#
# One cluster per machine (kubelet owns fixed host paths): a second `up` waits for the first to be
# torn down, and a cluster left behind by a process that died is torn down first. `down` restores
# the kernel settings kubelet changes and removes every process, mount, cgroup, namespace, route
# and directory `up` created, even after a failed `up`. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

NETNS=sparserollout
NODE=cpu-node
NODE_IP=10.243.0.1
PEER_IP=10.243.0.2
NODE_RANGE=10.243.0.0/24
POD_RANGE=10.244.0.0/16
POD_SUBNET=10.244.0.0/24
SERVICE_RANGE=10.0.0.0/24
API_SERVICE_IP=10.0.0.1
ETCD_PORT=12379
API_PORT=16443
RUN=/run/sparserollout
LOCK=$RUN/lock
CGROUP=sparserollout
# What kubelet writes outside DIR (fixed paths); removed by `down` when `up` created them.
HOST_PATHS=(/var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni /run/containerd)
# Kernel settings kubelet sets on start (it refuses to run otherwise); restored by `down`.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

log() { echo "[local-cluster $(date +%T)] $*" >&2; }
die() { log "$*"; exit 1; }
IN_NODE=(nsenter --net=/run/netns/$NETNS)
in_node() { "${IN_NODE[@]}" "$@"; }

# Starts a long-running process with its own session; its pid goes to DIR/pids/NAME.
start() {
  local name=$1
  shift
  setsid "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name"
}

wait_for() {
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq 1 $((seconds * 2))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "$what not ready after ${seconds}s: see $dir/logs"
}

install_packages() {
  local need=()
  command -v containerd >/dev/null || need+=(containerd)
  command -v runc >/dev/null || need+=(runc)
  [ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
  command -v iptables >/dev/null || need+=(iptables)
  command -v conntrack >/dev/null || need+=(conntrack)
  command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
  command -v socat >/dev/null || need+=(socat)
  command -v openssl >/dev/null || need+=(openssl)
  command -v nsenter >/dev/null || need+=(util-linux)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
  fi
}

# Waits for the machine's one cluster slot; a slot whose owner died is cleaned up and taken.
take_lock() {
  mkdir -p $RUN
  local waited=0
  while ! mkdir "$LOCK" 2>/dev/null; do
    local owner other
    owner=$(cat "$LOCK/owner" 2>/dev/null || true)
    other=$(cat "$LOCK/dir" 2>/dev/null || true)
    if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
      log "a cluster left behind by process $owner ($other): tearing it down first"
      "$0" down "$other" || true
      rm -rf "$LOCK"
      continue
    fi
    if [ $((waited % 30)) = 0 ]; then
      log "another local cluster runs on this machine ($other, process $owner); waiting for it to stop"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "${OWNER_PID:-$PPID}" >"$LOCK/owner"
  echo "$dir" >"$LOCK/dir"
}

pki() {
  local p=$dir/pki
  mkdir -p "$p"
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=sparserollout-local-ca \
    -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
  issue() { # name subject extensions
    openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$p/$1.key" -out "$p/$1.csr" 2>/dev/null
    openssl x509 -req -in "$p/$1.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 7 \
      -extfile <(printf '%s\n' "$3") -out "$p/$1.crt" 2>/dev/null
  }
  issue apiserver /CN=kube-apiserver "subjectAltName=IP:127.0.0.1,IP:$API_SERVICE_IP,IP:$NODE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth"
  issue admin "/O=system:masters/CN=sparserollout-admin" "extendedKeyUsage=clientAuth"
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  # The admin's kubeconfig, for this machine (the API server's loopback port) ...
  kubeconfig "$dir/kubeconfig" "https://127.0.0.1:$API_PORT"
}

kubeconfig() {
  local p=$dir/pki
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $2
    certificate-authority-data: $(base64 -w0 "$p/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "$p/admin.crt")
    client-key-data: $(base64 -w0 "$p/admin.key")
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
EOF
  chmod 600 "$1"
}

control_plane() {
  local p=$dir/pki kc=$dir/kubeconfig
  start etcd "${IN_NODE[@]}" "$bin/etcd" --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls http://127.0.0.1:12380 \
    --initial-advertise-peer-urls http://127.0.0.1:12380 --initial-cluster default=http://127.0.0.1:12380
  start kube-apiserver "${IN_NODE[@]}" "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 0.0.0.0 --secure-port $API_PORT --insecure-port 0 --advertise-address $NODE_IP \
    --tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" --client-ca-file "$p/ca.crt" \
    --service-account-key-file "$p/sa.pub" --service-account-signing-key-file "$p/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range $SERVICE_RANGE --authorization-mode Node,RBAC --allow-privileged=false \
    --enable-admission-plugins OwnerReferencesPermissionEnforcement \
    --kubelet-preferred-address-types InternalIP --kubelet-client-certificate "$p/admin.crt" \
    --kubelet-client-key "$p/admin.key" --cert-dir "$p" -v=1
  wait_for kube-apiserver 60 "$bin/kubectl" --kubeconfig "$kc" get --raw /readyz
  start kube-controller-manager "${IN_NODE[@]}" "$bin/kube-controller-manager" --kubeconfig "$kc" \
    --controllers job,replicaset,deployment,garbagecollector,endpoint,endpointslice,serviceaccount,serviceaccount-token,namespace,podgc,pvc-protection,pv-protection,horizontalpodautoscaling \
    --service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" \
    --use-service-account-credentials=false --leader-elect=false --port 0 --secure-port 0 -v=2
  start kube-scheduler "${IN_NODE[@]}" "$bin/kube-scheduler" --kubeconfig "$kc" --leader-elect=false --port 0 \
    --secure-port 0 -v=1
}

host_network() {
  # First: nothing addressed to the cluster's ranges may leave this machine.
  for range in $NODE_RANGE $POD_RANGE $SERVICE_RANGE; do
    ip route replace blackhole $range
  done
  # The first `ip netns add` on a machine makes /run/netns a mount point: down undoes that too.
  awk '$5 == "/run/netns" { found = 1 } END { exit !found }' /proc/self/mountinfo ||
    touch "$dir/host/netns-unmounted"
  ip netns add $NETNS
  ip -n $NETNS link set lo up
  # The node's address, and a route for the Service range whose both ends stay inside: packets to
  # a ClusterIP need a route before kube-proxy's DNAT rewrites them to a pod.
  ip link add sr-node0 netns $NETNS type veth peer name sr-node1 netns $NETNS
  ip -n $NETNS addr add $NODE_IP/24 dev sr-node0
  ip -n $NETNS addr add $PEER_IP/24 dev sr-node1
  ip -n $NETNS link set sr-node0 up
  ip -n $NETNS link set sr-node1 up
  ip -n $NETNS route add $SERVICE_RANGE via $PEER_IP dev sr-node0
  # Pods reach Services on the same bridge: the bridge's traffic goes through iptables.
  in_node sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.ipv4.ip_forward=1
  # The API server, for this machine's clients.
  start api-bridge-node "${IN_NODE[@]}" socat "UNIX-LISTEN:$RUN/apiserver.sock,fork,mode=600" \
    "TCP:127.0.0.1:$API_PORT"
  wait_for "the API server bridge" 10 test -S $RUN/apiserver.sock
  start api-bridge-host socat "TCP-LISTEN:$API_PORT,bind=127.0.0.1,fork,reuseaddr" \
    "UNIX-CONNECT:$RUN/apiserver.sock"
}

node() {
  local p=$dir/pki n=$dir/node
  mkdir -p "$n/cni" "$n/containerd" "$n/dns" "$n/pki"
  for path in "${HOST_PATHS[@]}"; do
    [ -e "$path" ] || { mkdir -p "$path"; echo "$path" >>"$dir/host/created-paths"; }
  done
  for s in "${SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s")" >>"$dir/host/sysctls"; done
  ip netns list | awk '{print $1}' >"$dir/host/netns"
  for c in /sys/fs/cgroup/*/; do
    [ -d "$c/$CGROUP" ] || mkdir -p "$c/$CGROUP"
  done

  cat >"$n/cni/10-bridge.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "sparserollout", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "isDefaultGateway": true,
   "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$n/ipam", "ranges": [[{"subnet": "$POD_SUBNET"}]]}},
  {"type": "loopback"}]}
EOF
  cat >"$n/containerd/config.toml" <<EOF
version = 2
root = "$n/containerd/root"
state = "$RUN/containerd"
[grpc]
  address = "$RUN/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/sparserollout/pause:$version"
  # This machine's root lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$n/cni"
[plugins."io.containerd.internal.v1.opt"]
  path = "$n/containerd/opt"
EOF
  start containerd "${IN_NODE[@]}" containerd --config "$n/containerd/config.toml"
  wait_for containerd 30 ctr --address $RUN/containerd.sock version
  for image in "$images"/*.tar; do
    log "importing $(basename "$image")"
    ctr --address $RUN/containerd.sock -n k8s.io images import --no-unpack=false "$image" >&2
  done

  # Pods' DNS: dnsmasq on the node's address, fed from the cluster's Services.
  start dnsmasq "${IN_NODE[@]}" dnsmasq --keep-in-foreground --conf-file=/dev/null \
    --no-resolv --no-hosts --no-poll --user=root --pid-file= --log-facility=- \
    --listen-address=$NODE_IP --bind-interfaces --hostsdir="$n/dns" --local=/cluster.local/
  start service-dns "$0" service-dns "$dir"
  printf 'nameserver %s\n' $NODE_IP >"$n/resolv.conf"

  cat >"$n/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication: {anonymous: {enabled: false}, webhook: {enabled: false}, x509: {clientCAFile: $p/ca.crt}}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
clusterDNS: [$NODE_IP]
clusterDomain: cluster.local
resolvConf: $n/resolv.conf
failSwapOn: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
runtimeRequestTimeout: 10m
EOF
  start kubelet "${IN_NODE[@]}" "$bin/kubelet" --config "$n/kubelet.yaml" \
    --kubeconfig "$dir/kubeconfig" --container-runtime remote \
    --container-runtime-endpoint unix://$RUN/containerd.sock --hostname-override $NODE \
    --node-ip $NODE_IP --cert-dir "$n/pki" --node-labels "sparserollout.io/local-node=true" -v=1
  start kube-proxy "${IN_NODE[@]}" "$bin/kube-proxy" --kubeconfig "$dir/kubeconfig" \
    --hostname-override $NODE --bind-address $NODE_IP --cluster-cidr $POD_RANGE --proxy-mode iptables \
    --conntrack-max-per-core 0 --conntrack-tcp-timeout-established 0 \
    --conntrack-tcp-timeout-close-wait 0 --metrics-bind-address 127.0.0.1:10249 \
    --healthz-bind-address 127.0.0.1:10256 -v=1
  wait_for "node $NODE" 90 sh -c "'$bin/kubectl' --kubeconfig '$dir/kubeconfig' get node $NODE \
    -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  # The node lifecycle controller would lift the not-ready taint the API server put on the new
  # node; it does not run here (it would also evict the harness's GPU nodes), so this does.
  "$bin/kubectl" --kubeconfig "$dir/kubeconfig" taint node $NODE node.kubernetes.io/not-ready- >/dev/null 2>&1 || true
}

# Keeps DIR/node/dns/services in step with the cluster's Services (dnsmasq rereads it on change).
service_dns() {
  local kc=$dir/kubeconfig file=$dir/node/dns/services
  local names='{range .items[*]}{.spec.clusterIP} {.metadata.name}.{.metadata.namespace}.svc.cluster.local{"\n"}{end}'
  while true; do
    "$bin/kubectl" --kubeconfig "$kc" get services -A --watch-only -o name 2>/dev/null | {
      refresh() {
        "$bin/kubectl" --kubeconfig "$kc" get services -A -o jsonpath="$names" |
          grep -v '^None ' | grep -v '^ ' >"$file.next" || true
        mv -f "$file.next" "$file"
      }
      refresh
      while read -r _; do refresh; done
    }
    sleep 1
  done
}

up() {
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces, containerd, kubelet)"
  install_packages
  bin=$(scripts/k8s-binaries.sh)
  images=$(scripts/images.sh)
  take_lock
  unmount_under "$dir"
  rm -rf "$dir"
  mkdir -p "$dir/logs" "$dir/pids" "$dir/host"
  echo "$dir" >"$LOCK/dir"
  trap 'log "start failed: tearing down"; "$0" down "$dir"' ERR
  pki
  host_network
  control_plane
  node
  trap - ERR
  log "ready: $NODE Ready; kubeconfig $dir/kubeconfig"
}

forward() {
  local listen=$1 target=$2 name=forward-${1//[.:]/-}
  local sock=$RUN/$name.sock
  case $listen in 127.*) ;; *) die "forward listens on loopback addresses only, not $listen" ;; esac
  rm -f "$sock"
  start "$name-node" "${IN_NODE[@]}" \
    socat "UNIX-LISTEN:$sock,fork,mode=600" "TCP:$target,connect-timeout=5"
  wait_for "the bridge to $target" 10 test -S "$sock"
  start "$name-host" socat "TCP-LISTEN:${listen##*:},bind=${listen%:*},fork,reuseaddr" "UNIX-CONNECT:$sock"
  wait_for "the bridge to $target" 10 sh -c "ss -ltn | grep -q '$listen '"
}

unmount_under() {
  local pattern
  pattern=$(printf '%s|' "$@")
  for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^(${pattern%|})(/|$)" | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

down() {
  log "tearing down"
  # Processes: every one this cluster started, then anything still running in its cgroups.
  if [ -d "$dir/pids" ]; then
    for f in "$dir"/pids/*; do
      [ -f "$f" ] || continue
      kill -TERM -- "-$(cat "$f")" 2>/dev/null || kill -TERM "$(cat "$f")" 2>/dev/null || true
    done
    sleep 1
    for f in "$dir"/pids/*; do
      [ -f "$f" ] || continue
      kill -KILL -- "-$(cat "$f")" 2>/dev/null || kill -KILL "$(cat "$f")" 2>/dev/null || true
    done
  fi
  # containerd-shim and container processes outlive containerd.
  for c in /sys/fs/cgroup/*/$CGROUP; do
    [ -d "$c" ] || continue
    find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  done
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $RUN/containerd.sock" 2>/dev/null || true
  for _ in $(seq 1 40); do
    alive=0
    for f in "$dir"/pids/*; do
      [ -f "$f" ] || continue
      state=$(awk '{print $3}' "/proc/$(cat "$f")/stat" 2>/dev/null || echo gone)
      case $state in gone | Z) ;; *) alive=1 ;; esac
    done
    pgrep -f -- "-address $RUN/containerd.sock|$dir/|/run/netns/$NETNS" >/dev/null && alive=1
    [ $alive = 0 ] && break
    sleep 0.25
  done
  # Mounts under the node's directories (container root filesystems, pod volumes, the netns).
  unmount_under "$dir" /var/lib/kubelet $RUN
  for c in /sys/fs/cgroup/*/$CGROUP; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  ip netns del $NETNS 2>/dev/null || true
  # The pods' own namespaces, which containerd's CNI code creates beside the host's.
  if [ -f "$dir/host/netns" ]; then
    for ns in $(ip netns list | awk '{print $1}' | grep '^cni-'); do
      grep -qx "$ns" "$dir/host/netns" || ip netns del "$ns" 2>/dev/null || true
    done
  fi
  if [ -f "$dir/host/netns-unmounted" ] && [ -z "$(ip netns list)" ]; then
    umount /run/netns 2>/dev/null || true
  fi
  for range in $NODE_RANGE $POD_RANGE $SERVICE_RANGE; do
    ip route del blackhole $range 2>/dev/null || true
  done
  if [ -f "$dir/host/sysctls" ]; then
    while IFS='=' read -r key value; do sysctl -qw "$key=$value" 2>/dev/null || true; done <"$dir/host/sysctls"
  fi
  # Pod logs outlive the cluster, beside the components' own logs.
  [ -d /var/log/pods ] && [ -d "$dir/logs" ] && cp -r /var/log/pods "$dir/logs/pods" 2>/dev/null || true
  if [ -f "$dir/host/created-paths" ]; then
    while read -r path; do rm -rf "$path"; done <"$dir/host/created-paths"
  fi
  find $RUN -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} + 2>/dev/null || true
  [ "$(cat "$LOCK/dir" 2>/dev/null)" = "$dir" ] && rm -rf "$LOCK"
  rmdir $RUN 2>/dev/null || true
  log "down"
}

# Routes, namespaces, links, mounts, kernel settings, cgroups, paths, firewall rules and
# processes: equal before `up` and after `down`.
host_state() {
  echo "# routes"; ip route show table all | grep -v -E ' proto (kernel|ra) .*linkdown' || true
  echo "# network namespaces"; ip netns list
  echo "# links"; ip -o link show | awk -F': ' '{print $2}' | sort
  echo "# mounts"; awk '{print $5}' /proc/self/mountinfo | sort
  echo "# kernel settings"; for s in "${SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s")"; done
  echo "# cgroups"; ls -d /sys/fs/cgroup/*/$CGROUP 2>/dev/null || true
  echo "# paths"; ls -d "${HOST_PATHS[@]}" $RUN 2>/dev/null || true
  echo "# firewall"; iptables-save 2>/dev/null | grep -v -E '^#' | sed 's/\[[0-9]*:[0-9]*\]//' || true
  echo "# processes"
  # Live ones: a killed process may stay a zombie until its new parent reaps it.
  ps -eo stat=,comm= | awk '$1 !~ /^Z/ {print $2}' |
    grep -x -E 'etcd|kube-apiserver|kube-controller|kube-scheduler|kubelet|kube-proxy|containerd|containerd-shim|dnsmasq|socat|pause' | sort || true
}

command=${1:-}
[ "$command" = host-state ] && { host_state; exit 0; }
[ $# -ge 2 ] || die "usage: $0 up|down|forward DIR [LOCAL:PORT IP:PORT]"
dir=$(realpath -m "$2")
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -n 1)
[ "$version" = 0.1.0-SNAPSHOT ] && version=0.1.0
case $command in
  up) up ;;
  down) down ;;
  forward) [ $# = 4 ] || die "usage: $0 forward DIR LOCAL:PORT IP:PORT"; forward "$3" "$4" ;;
  service-dns) bin=$(scripts/k8s-binaries.sh); service_dns ;;
  *) die "unknown command $command" ;;
esac
