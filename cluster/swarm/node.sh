#!/usr/bin/env bash
# A Docker Swarm node in a container, for trying the stack file on one machine
# (the suite does: tests/cluster/test_swarm_deploy.py): the cluster's node image
# (chaosbed/cluster-node, made by `bash compose/build-images.sh --cluster`) running
# only its own Docker engine, with the options the Kubernetes nodes get (see
# chaos/runtime/cluster/nodes.py) and this script as its entrypoint, next to
# chaos/runtime/cluster/node-cgroups.sh mounted at /etc/chaosbed-swarm. Then, on the
# first node, `docker swarm init`; on the others, `docker swarm join`.
set -euo pipefail
# shellcheck source=/dev/null
source /etc/chaosbed-swarm/node-cgroups.sh
# Swarm's overlay network needs the engine's iptables rules (unlike a Kubernetes
# node's engine here, whose only rules are kube-proxy's).
exec dockerd --host=unix:///var/run/docker.sock --exec-opt native.cgroupdriver=cgroupfs \
    --log-level=warn
