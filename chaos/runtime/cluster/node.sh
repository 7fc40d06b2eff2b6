#!/usr/bin/env bash
# A node of chaosbed's one-machine Kubernetes cluster, run as the node
# container's main process (chaosbed/cluster-node, under tini): its own Docker
# engine, a kubelet and kube-proxy. nodes.py writes the configuration into
# /etc/chaosbed-node and mounts the binaries into /usr/local/bin.
#
# The container is not --privileged (that needs CAP_SYS_RESOURCE, which these
# machines do not grant); nodes.py gives it the capabilities, the device rule
# and a private cgroup namespace, and this script makes the rest writable.
# It exits when the engine, the kubelet or kube-proxy does; SIGTERM stops the
# three (the engine stops the pods' containers).
set -euo pipefail
CONFIG=/etc/chaosbed-node
# shellcheck source=/dev/null
source "$CONFIG/node.env" # NODE, REGION, NODE_IP, POD_GATEWAY, CLUSTER_CIDR, ROUTES, VOLUMES

log() { printf 'node %s: %s\n' "$NODE" "$*"; }

# 1. The cgroup hierarchies read-write (node-cgroups.sh, beside this script).
# shellcheck source=/dev/null
source "$CONFIG/node-cgroups.sh"
# The kubelet's OOM watcher reads the kernel's messages.
[[ -e /dev/kmsg ]] || mknod /dev/kmsg c 1 11
# Volumes the kubelet mounts into pods propagate into the engine's containers.
mount --make-rshared /
for volume in $VOLUMES; do mkdir -p "$volume"; done

# 2. Routes to the other nodes' pods (each node's engine hands out addresses
#    from its own /24: POD_GATEWAY is this node's).
for route in $ROUTES; do
    ip route replace "${route%=*}" via "${route#*=}"
done

children=()
stop() { # [exit code]
    log "stopping"
    for ((i = ${#children[@]} - 1; i >= 0; i--)); do
        kill -TERM "${children[i]}" 2>/dev/null || true
        wait "${children[i]}" 2>/dev/null || true
    done
    exit "${1:-0}"
}
trap stop TERM INT

# 3. The engine: pods on its bridge, no NAT (the other nodes route to them), no
#    iptables rules of its own (kube-proxy's are the node's only ones). Its socket
#    is root's only (--group=root: the image's docker group id may be a user's
#    group here).
dockerd --host=unix:///var/run/docker.sock --group=root --bip="$POD_GATEWAY" --iptables=false \
    --ip-masq=false --exec-opt native.cgroupdriver=cgroupfs --log-level=warn \
    >/var/log/dockerd.log 2>&1 &
children+=($!)
for _ in $(seq 1 300); do
    docker version >/dev/null 2>&1 && break
    kill -0 "${children[0]}" 2>/dev/null || { tail -5 /var/log/dockerd.log; exit 1; }
    sleep 0.1
done
docker version >/dev/null 2>&1 || { log "the engine did not start"; tail -5 /var/log/dockerd.log; exit 1; }
# The pods' sandbox image, from the mounted pause binary (no registry).
if ! docker image inspect chaosbed/pause:3.2 >/dev/null 2>&1; then
    tar -C /usr/local/bin -c pause |
        docker import --change 'ENTRYPOINT ["/pause"]' - chaosbed/pause:3.2 >/dev/null
fi
log "engine up"

# 4. The kubelet and kube-proxy.
kubelet --config="$CONFIG/kubelet.yaml" --kubeconfig="$CONFIG/kubelet.kubeconfig" \
    --container-runtime=docker --pod-infra-container-image=chaosbed/pause:3.2 \
    --hostname-override="$NODE" --node-ip="$NODE_IP" \
    --node-labels="chaosbed.io/region=$REGION" --v=1 >/var/log/kubelet.log 2>&1 &
children+=($!)
kube-proxy --kubeconfig="$CONFIG/kube-proxy.kubeconfig" --hostname-override="$NODE" \
    --proxy-mode=iptables --cluster-cidr="$CLUSTER_CIDR" --conntrack-max-per-core=0 \
    --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0 \
    --metrics-bind-address=127.0.0.1:10249 --healthz-bind-address=127.0.0.1:10256 \
    >/var/log/kube-proxy.log 2>&1 &
children+=($!)
log "kubelet and kube-proxy started"

# 5. Until one of them exits: the node is then down, as a machine whose
#    kubelet died is to its cluster.
set +e
wait -n "${children[@]}"
code=$?
log "a component exited ($code): $(tail -q -n 3 /var/log/kubelet.log /var/log/kube-proxy.log /var/log/dockerd.log 2>/dev/null | tr '\n' ' ')"
stop 1
