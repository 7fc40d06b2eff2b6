#!/usr/bin/env bash
# Build the Kubernetes binaries of chaosbed's one-machine cluster from Debian
# bookworm's source package, on Debian bookworm, as root. No registry and no
# prebuilt Kubernetes is reachable from these machines: Debian's source
# (Kubernetes 1.20.2 with its vendored tree) and Go 1.19 are.
#
#   bash cluster/kubernetes/build.sh         # kube-apiserver, controller-manager, scheduler, kubectl
#   bash cluster/kubernetes/build.sh --all   # and kubelet, kube-proxy and pause (the nodes)
#
# - Installs what is missing: etcd-server (the control plane's store), golang-go,
#   rsync (make gen_openapi needs it), dpkg-dev, curl. Debian's postinst does
#   not start etcd here (a policy-rc.d denies it for the install).
# - Downloads the source package from the Debian archive ($DEBIAN_MIRROR) and
#   checks it against the sums below.
# - Builds in GOPATH mode (1.20's vendored tree fails in module mode: "updates to
#   go.mod needed, disabled by -mod=vendor") after `make gen_openapi` (else
#   kube-apiserver: "undefined: openapi.GetOpenAPIDefinitions").
# - kubelet is patched (PATCHES below; a change to them rebuilds everything):
#   1. the OOM score of pod sandboxes and Guaranteed pods stays 0: setting
#      -998 / -997 needs CAP_SYS_RESOURCE, which containers and root on these
#      VMs lack, and every pod fails to start without it;
#   2. --protect-kernel-defaults warns instead of refusing to start: a kubelet
#      otherwise sets kernel.panic=10, kernel.panic_on_oops=1 and
#      vm.overcommit_memory=1, which are not namespaced: a kubelet in a node
#      container would change them for the whole machine.
# - Binaries go to $CHAOSBED_KUBERNETES_BIN (default
#   ~/.cache/chaosbed/kubernetes/v1.20.2/bin); one already there is not rebuilt.
#   Cold, on 2 cores: about 4 minutes for the default set, 7 with --all.
set -euo pipefail

VERSION=1.20.5+really1.20.2
REVISION=1.1+deb12u1
GIT_VERSION=v1.20.2
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${CHAOSBED_KUBERNETES_CACHE:-$HOME/.cache/chaosbed/kubernetes/$GIT_VERSION}
BIN=${CHAOSBED_KUBERNETES_BIN:-$CACHE/bin}
declare -A SHA256=(
    ["kubernetes_$VERSION-$REVISION.dsc"]=19fa1da5aefcef673894ac9511986bd98a14410cf8eea0b626613c30df435257
    ["kubernetes_$VERSION.orig.tar.gz"]=b83c0780efb182d928dc63d46488a847f161f04e40a94b96bf5247dd671ecdfc
    ["kubernetes_$VERSION-$REVISION.debian.tar.xz"]=9b6e5fd41769d2b5badf2e73b274e3bcd90f85e13d06a1a4a845ccce018127d8
)
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
PATCHES=2  # bump when the patches in step 3 change

log() { printf 'kubernetes-build: %s\n' "$*" >&2; }

case "${1:-}" in
    "") ;;
    --all) BINARIES=(kubelet "${BINARIES[@]}" kube-proxy pause) ;;
    *) log "unknown argument '$1' (the only one is --all)"; exit 2 ;;
esac

if [[ -d $BIN && $(cat "$BIN/.patches" 2>/dev/null) != "$PATCHES" ]]; then
    log "the patches changed: rebuilding"
    rm -rf "$BIN" "${CACHE:?}/gopath"
fi
todo=()
for binary in "${BINARIES[@]}"; do
    [[ -x $BIN/$binary ]] || todo+=("$binary")
done

# 1. Packages (etcd even when every binary is built: the control plane needs it).
missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
if [[ ${#todo[@]} -gt 0 ]]; then
    command -v go >/dev/null 2>&1 || missing+=(golang-go)
    command -v rsync >/dev/null 2>&1 || missing+=(rsync)
    command -v dpkg-source >/dev/null 2>&1 || missing+=(dpkg-dev)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        log "missing ${missing[*]}: run as root to install them"
        exit 1
    fi
    log "installing ${missing[*]}"
    policy=/usr/sbin/policy-rc.d
    added_policy=0
    if [[ ! -e $policy ]]; then  # no service starts during the install (etcd's postinst)
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && added_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" ca-certificates
    [[ $added_policy -eq 1 ]] && rm -f "$policy"
fi

if [[ ${#todo[@]} -eq 0 ]]; then
    log "already built in $BIN: ${BINARIES[*]}"
    exit 0
fi

# 2. The source, checked.
mkdir -p "$CACHE/download" "$BIN"
for file in "${!SHA256[@]}"; do
    path=$CACHE/download/$file
    if [[ ! -f $path ]] || ! echo "${SHA256[$file]}  $path" | sha256sum -c --status; then
        log "downloading $file"
        curl -fsSL --retry 3 -o "$path.part" "$DEBIAN_MIRROR/pool/main/k/kubernetes/${file//+/%2B}"
        mv "$path.part" "$path"
    fi
    echo "${SHA256[$file]}  $path" | sha256sum -c --status || {
        log "$file: sha256 differs from ${SHA256[$file]}"
        exit 1
    }
done

# 3. The tree: extracted with Debian's patches, ours, and the generated OpenAPI.
GOPATH=$CACHE/gopath
TREE=$GOPATH/src/k8s.io/kubernetes
if [[ $(cat "$TREE/.chaosbed-ready" 2>/dev/null) != "$PATCHES" ]]; then
    rm -rf "$GOPATH"
    mkdir -p "$(dirname "$TREE")"
    log "extracting the source"
    dpkg-source --no-check -x "$CACHE/download/kubernetes_$VERSION-$REVISION.dsc" "$TREE" >/dev/null
    sed -i 's/defaultSandboxOOMAdj int = -998/defaultSandboxOOMAdj int = 0/' \
        "$TREE/pkg/kubelet/dockershim/docker_sandbox.go"
    sed -i 's/guaranteedOOMScoreAdj int = -997/guaranteedOOMScoreAdj int = 0/' \
        "$TREE/pkg/kubelet/qos/policy.go"
    grep -q 'defaultSandboxOOMAdj int = 0' "$TREE/pkg/kubelet/dockershim/docker_sandbox.go"
    grep -q 'guaranteedOOMScoreAdj int = 0' "$TREE/pkg/kubelet/qos/policy.go"
    manager=$TREE/pkg/kubelet/cm/container_manager_linux.go
    sed -i '/if cm.GetNodeConfig().ProtectKernelDefaults {/{n;s/b = KernelTunableError/b = KernelTunableWarn/}' \
        "$manager"
    grep -A1 'ProtectKernelDefaults {' "$manager" | grep -q 'b = KernelTunableWarn'
    log "generating the OpenAPI definitions"
    (cd "$TREE" && GOCACHE=$CACHE/gocache make gen_openapi >"$CACHE/gen_openapi.log" 2>&1) || {
        tail -20 "$CACHE/gen_openapi.log" >&2
        exit 1
    }
    echo "$PATCHES" > "$TREE/.chaosbed-ready"
fi

# 4. The binaries.
V=k8s.io/kubernetes/vendor/k8s.io
LDFLAGS="-s -w -X $V/component-base/version.gitVersion=$GIT_VERSION"
LDFLAGS+=" -X $V/component-base/version.gitMajor=1 -X $V/component-base/version.gitMinor=20"
LDFLAGS+=" -X $V/component-base/version.gitTreeState=clean"
LDFLAGS+=" -X $V/client-go/pkg/version.gitVersion=$GIT_VERSION"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for binary in "${todo[@]}"; do
    started=$(date +%s)
    source=./cmd/$binary
    [[ $binary == pause ]] && source=$HERE/pause/pause.go  # the pods' sandbox (no registry)
    (cd "$TREE" && CGO_ENABLED=0 GO111MODULE=off GOPATH=$GOPATH GOCACHE=$CACHE/gocache \
        go build -ldflags "$LDFLAGS" -o "$BIN/$binary.part" "$source")
    mv "$BIN/$binary.part" "$BIN/$binary"
    echo "$PATCHES" > "$BIN/.patches"
    log "built $binary in $(( $(date +%s) - started )) s"
done
log "binaries in $BIN: ${BINARIES[*]}"
