#!/usr/bin/env bash
# Offline image build: everything the compose stack needs, without a registry.
#
#   sudo bash compose/build-images.sh            # from the repository root or anywhere
#   sudo bash compose/build-images.sh --cluster  # and the cluster's node image
#
# 1. Base images, built locally when missing (or when their recipe changed):
#      chaosbed/base-python:bookworm      debootstrap of Debian bookworm with
#                                         python3, python3-venv, ca-certificates, curl
#      chaosbed/base-prometheus:bookworm  the same with Debian's prometheus package,
#                                         laid out like prom/prometheus
#      chaosbed/net-helper:bookworm       iptables, iproute2 and python3: the network
#                                         faults' helper, run in a service's network
#                                         namespace (--network container:<service>;
#                                         on the cluster a pod that enters a pod's
#                                         with nsenter, from util-linux)
#      chaosbed/cluster-node:bookworm     with --cluster only: Debian's Docker engine,
#                                         iptables, iproute2, conntrack: a node of the
#                                         one-machine Kubernetes cluster (--runtime cluster)
#    (debootstrap + `docker import`, from the Debian mirror the host's apt uses).
# 2. A wheelhouse in compose/wheelhouse/, filled by pip on the host with the
#    project's runtime dependencies (containers cannot reach the package index).
# 3. The project images from the same Dockerfiles users build, with the local bases:
#      chaosbed/service:latest, chaosbed/prometheus:latest
#
# Needs root, a running Docker engine and debootstrap (compose/install-docker.sh
# sets those up). Environment knobs:
#   DEBIAN_MIRROR   mirror for debootstrap (default: the host's apt source for bookworm)
#   CHAOSBED_TAG    tag of the project images (default: latest)
#   REBUILD_BASES=1 rebuild the base images even when present
#   PYTHON          host interpreter whose pip fills the wheelhouse (default: python3)
set -euo pipefail

COMPOSE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$COMPOSE_DIR")
BUILD_DIR=$COMPOSE_DIR/.build
WHEELHOUSE=$COMPOSE_DIR/wheelhouse
SUITE=bookworm
TAG=${CHAOSBED_TAG:-latest}
PYTHON=${PYTHON:-python3}
PYTHON_BASE_IMAGE=chaosbed/base-python:$SUITE
PROMETHEUS_BASE_IMAGE=chaosbed/base-prometheus:$SUITE
NET_HELPER_IMAGE=chaosbed/net-helper:$SUITE
# Bump when the base recipes below change; the label makes stale bases rebuild.
RECIPE_VERSION=1
PYTHON_PACKAGES=python3,python3-venv,ca-certificates,curl
PROMETHEUS_PACKAGES=prometheus,ca-certificates,wget
NET_HELPER_PACKAGES=iptables,iproute2,python3
CLUSTER_NODE_IMAGE=chaosbed/cluster-node:$SUITE
CLUSTER_NODE_PACKAGES=docker.io,tini,iptables,iproute2,procps,conntrack,ca-certificates,curl

log() { printf '[build-images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

host_mirror() {
    # First URI of an enabled apt source that serves $SUITE (deb822 or one-line format).
    local files=(/etc/apt/sources.list.d/*.sources)
    local uri
    uri=$(awk -v suite="$SUITE" '
        /^URIs:/ { uris = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = 1 }
        /^$/ { if (found && uris != "") { print uris; exit } found = 0; uris = "" }
        END { if (found && uris != "") print uris }
    ' "${files[@]}" 2>/dev/null | head -n1 || true)
    if [[ -z $uri && -f /etc/apt/sources.list ]]; then
        uri=$(awk -v suite="$SUITE" '$1 == "deb" && $0 ~ " " suite " " {
            for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
            /etc/apt/sources.list | head -n1 || true)
    fi
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

recipe_hash() { printf '%s|%s|%s' "$RECIPE_VERSION" "$SUITE" "$1" | sha256sum | cut -c1-16; }

# Whether IMAGE was built from RECIPE (and REBUILD_BASES is not set); says so when it was.
up_to_date() {
    [[ ${REBUILD_BASES:-0} != 1 && $(image_recipe "$1") == "$2" ]] || return 1
    log "$1 is up to date (recipe $2)"
}

image_recipe() {
    docker image inspect --format '{{ index .Config.Labels "org.chaosbed.recipe" }}' "$1" \
        2>/dev/null || true
}

# debootstrap a minimal bookworm with the given packages into $2, then trim it.
bootstrap_rootfs() {
    local packages=$1 rootfs=$2
    rm -rf "$rootfs"
    mkdir -p "$rootfs" "$BUILD_DIR/debs"
    log "debootstrap $SUITE (+$packages) from $MIRROR"
    debootstrap --variant=minbase --include="$packages" --cache-dir="$BUILD_DIR/debs" \
        "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 ||
        {
            tail -n 30 "$rootfs.log" >&2
            die "debootstrap failed (log: $rootfs.log)"
        }
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/var/cache/debconf/*-old \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
        "$rootfs"/tmp/* "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf
}

import_rootfs() {
    local rootfs=$1 image=$2 recipe=$3
    shift 3
    local changes=(--change "LABEL org.chaosbed.recipe=$recipe")
    local change
    for change in "$@"; do changes+=(--change "$change"); done
    log "docker import -> $image"
    tar --numeric-owner -C "$rootfs" -c . | docker import "${changes[@]}" - "$image" >/dev/null
    rm -rf "$rootfs" "$rootfs.log"
}

build_python_base() {
    local recipe rootfs=$BUILD_DIR/rootfs-python
    recipe=$(recipe_hash "$PYTHON_PACKAGES")
    up_to_date "$PYTHON_BASE_IMAGE" "$recipe" && return
    bootstrap_rootfs "$PYTHON_PACKAGES" "$rootfs"
    import_rootfs "$rootfs" "$PYTHON_BASE_IMAGE" "$recipe" \
        'ENV LANG=C.UTF-8' \
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        'CMD ["python3"]'
}

build_prometheus_base() {
    local recipe rootfs=$BUILD_DIR/rootfs-prometheus
    recipe=$(recipe_hash "$PROMETHEUS_PACKAGES")
    up_to_date "$PROMETHEUS_BASE_IMAGE" "$recipe" && return
    bootstrap_rootfs "$PROMETHEUS_PACKAGES" "$rootfs"
    # Lay it out like prom/prometheus: /bin/prometheus (merged /usr), config in
    # /etc/prometheus, data in /prometheus owned by nobody.
    mkdir -p "$rootfs/prometheus" "$rootfs/etc/prometheus"
    chown 65534:65534 "$rootfs/prometheus"
    cp "$rootfs/etc/prometheus/prometheus.yml" "$rootfs/etc/prometheus/prometheus.yml.debian" \
        2>/dev/null || true
    import_rootfs "$rootfs" "$PROMETHEUS_BASE_IMAGE" "$recipe" \
        'ENV LANG=C.UTF-8' \
        'USER nobody' \
        'WORKDIR /prometheus' \
        'EXPOSE 9090' \
        'ENTRYPOINT ["/bin/prometheus"]' \
        'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
}

build_net_helper() {
    local recipe rootfs=$BUILD_DIR/rootfs-net-helper
    recipe=$(recipe_hash "$NET_HELPER_PACKAGES")
    up_to_date "$NET_HELPER_IMAGE" "$recipe" && return
    bootstrap_rootfs "$NET_HELPER_PACKAGES" "$rootfs"
    # iptables-nft, as the host's docker uses: the rules share the namespace's nf_tables.
    chroot "$rootfs" update-alternatives --set iptables /usr/sbin/iptables-nft >/dev/null
    import_rootfs "$rootfs" "$NET_HELPER_IMAGE" "$recipe" \
        'ENV LANG=C.UTF-8' \
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        'CMD ["sh"]'
}

build_cluster_node() {
    local recipe rootfs=$BUILD_DIR/rootfs-cluster-node
    recipe=$(recipe_hash "$CLUSTER_NODE_PACKAGES")
    up_to_date "$CLUSTER_NODE_IMAGE" "$recipe" && return
    bootstrap_rootfs "$CLUSTER_NODE_PACKAGES" "$rootfs"
    chroot "$rootfs" update-alternatives --set iptables /usr/sbin/iptables-nft >/dev/null
    # The node's script, the kubelet and kube-proxy are mounted in when it starts
    # (chaos/runtime/cluster/node.sh, the binaries cluster/kubernetes/build.sh made).
    import_rootfs "$rootfs" "$CLUSTER_NODE_IMAGE" "$recipe" \
        'ENV LANG=C.UTF-8' \
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        'VOLUME ["/var/lib/docker"]' \
        'ENTRYPOINT ["/usr/bin/tini", "--"]' \
        'CMD ["bash", "/etc/chaosbed-node/node.sh"]'
}

# Runtime dependencies from pyproject.toml, one requirement a line.
project_requirements() {
    "$PYTHON" - "$REPO_DIR/pyproject.toml" <<'EOF'
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)
build = project.get("build-system", {}).get("requires", [])
print("\n".join([*project["project"]["dependencies"], *build, "wheel"]))
EOF
}

fill_wheelhouse() {
    local requirements stamp_file=$WHEELHOUSE/.requirements
    requirements=$(project_requirements)
    if [[ -f $stamp_file && $(cat "$stamp_file") == "$requirements" ]]; then
        log "wheelhouse is up to date ($(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels)"
        return
    fi
    log "filling the wheelhouse with pip download (cp311, manylinux x86_64)"
    find "$WHEELHOUSE" -name '*.whl' -delete
    local platforms=() x
    for x in $(seq 36 -1 5); do platforms+=(--platform "manylinux_2_${x}_x86_64"); done
    platforms+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64)
    platforms+=(--platform manylinux1_x86_64 --platform any)
    local reqs
    mapfile -t reqs <<<"$requirements"
    "$PYTHON" -m pip download --quiet --dest "$WHEELHOUSE" --only-binary=:all: \
        --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
        "${platforms[@]}" "${reqs[@]}" \
        >"$BUILD_DIR/pip-download.log" 2>&1 ||
        {
            grep -v 'is ignored: it is neither' "$BUILD_DIR/pip-download.log" | tail -n 20 >&2
            die "pip download failed (log: $BUILD_DIR/pip-download.log)"
        }
    printf '%s' "$requirements" >"$stamp_file"
    log "wheelhouse: $(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels"
}

docker_build() {
    # The legacy builder needs no buildx plugin; BuildKit is used when buildx is there.
    if docker buildx version >/dev/null 2>&1; then
        docker build "$@"
    else
        DOCKER_BUILDKIT=0 docker build "$@" 2> >(grep -v -e DEPRECATED -e 'legacy builder' \
            -e 'buildx component' -e 'docs.docker.com/go/buildx' -e 'BuildKit is currently disabled' \
            -e 'environment-variable' -e '^ *$' >&2)
    fi
}

build_project_images() {
    log "docker build chaosbed/service:$TAG"
    docker_build --quiet -f "$COMPOSE_DIR/service.Dockerfile" \
        --build-arg "PYTHON_BASE=$PYTHON_BASE_IMAGE" -t "chaosbed/service:$TAG" "$REPO_DIR" >/dev/null
    log "docker build chaosbed/prometheus:$TAG"
    docker_build --quiet -f "$COMPOSE_DIR/prometheus.Dockerfile" \
        --build-arg "PROMETHEUS_BASE=$PROMETHEUS_BASE_IMAGE" -t "chaosbed/prometheus:$TAG" \
        "$REPO_DIR" >/dev/null
}

main() {
    local cluster=0
    case "${1:-}" in
        "") ;;
        --cluster) cluster=1 ;;
        *) die "unknown argument '$1' (the only one is --cluster)" ;;
    esac
    [[ $(id -u) -eq 0 ]] || die "run as root (debootstrap and chroot need it)"
    command -v debootstrap >/dev/null || die "debootstrap is missing: bash compose/install-docker.sh"
    docker info >/dev/null 2>&1 || die "Docker is unreachable: bash compose/install-docker.sh"
    mkdir -p "$BUILD_DIR" "$WHEELHOUSE"
    MIRROR=${DEBIAN_MIRROR:-$(host_mirror)}
    local start=$SECONDS
    build_python_base
    build_prometheus_base
    build_net_helper
    [[ $cluster -eq 1 ]] && build_cluster_node
    fill_wheelhouse
    build_project_images
    log "done in $((SECONDS - start))s: chaosbed/service:$TAG chaosbed/prometheus:$TAG $NET_HELPER_IMAGE" \
        "$([[ $cluster -eq 1 ]] && echo "$CLUSTER_NODE_IMAGE")"
}

main "$@"
