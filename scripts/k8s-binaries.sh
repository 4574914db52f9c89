#!/usr/bin/env bash
# Provides a Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl) and a node's components (kubelet, kube-proxy) in the envtest layout, and prints the
# directory holding them.
#
#   KUBEBUILDER_ASSETS set  -> those binaries are used as they are.
#   otherwise               -> built once from Debian's `kubernetes` source package and cached in
#                              ${SPARSEROLLOUT_CACHE:-~/.cache/sparserollout}/k8s/<version>-linux-amd64
#
# Debian has no binary package for the server and node components; building them takes 11-20
# minutes on two cores, hence the cache. All progress goes to stderr; stdout carries only the directory.
set -euo pipefail

K8S_VERSION=1.20.2
cache_root=${SPARSEROLLOUT_CACHE:-$HOME/.cache/sparserollout}
dest="$cache_root/k8s/$K8S_VERSION-linux-amd64"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)

log() { echo "[k8s-binaries] $*" >&2; }

have_all() {
  local dir=$1 b
  for b in "${binaries[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  have_all "$KUBEBUILDER_ASSETS" || { log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks one of: ${binaries[*]}"; exit 1; }
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi
if have_all "$dest"; then
  echo "$dest"
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# deb-src is needed for `apt-get source`; added once, next to the distribution's own entry.
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  log "adding deb-src entries"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
      as_root tee /etc/apt/sources.list.d/sparserollout-src.sources >/dev/null
  else
    grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
      as_root tee /etc/apt/sources.list.d/sparserollout-src.list >/dev/null
  fi
fi
log "installing build dependencies (etcd-server, golang-go, reflect2 1.0.2)"
as_root apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
  etcd-server golang-go golang-github-modern-go-reflect2-dev rsync jq dpkg-dev >&2

work="$cache_root/k8s-src"
mkdir -p "$work" "$dest"
src=$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
if [ -z "$src" ]; then
  log "fetching the kubernetes source package"
  (cd "$work" && apt-get source -qq kubernetes >&2)
  src=$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
fi

# The vendored reflect2 1.0.1 crashes the API server on Go >= 1.18 at the first custom-resource
# write (SIGSEGV in UnsafeMapType.UnsafeIterate); 1.0.2 fixes it.
reflect2="$src/vendor/github.com/modern-go/reflect2"
if ! grep -qs 'sparserollout: reflect2 1.0.2' "$reflect2/.patched"; then
  log "replacing vendored reflect2 with 1.0.2"
  rm -rf "$reflect2"
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$reflect2"
  echo 'sparserollout: reflect2 1.0.2' >"$reflect2/.patched"
fi

# Built as Debian's own rules do: `make WHAT=...` runs the code generators (openapi-gen) that a
# plain `go build` would miss, in GOPATH layout.
missing=()
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
  [ -x "$dest/$cmd" ] || missing+=("cmd/$cmd")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "building ${missing[*]} (11-20 minutes on two cores)"
  mkdir -p "$src/.go/src/k8s.io"
  ln -sfn ../../.. "$src/.go/src/k8s.io/kubernetes"
  (cd "$src" && env GOPATH="$src/.go" CGO_ENABLED=0 KUBE_GIT_VERSION="v$K8S_VERSION" \
    KUBE_GIT_TREE_STATE=clean make WHAT="${missing[*]}" >&2)
  for cmd in "${missing[@]}"; do cp -f "$src/_output/bin/${cmd#cmd/}" "$dest/"; done
fi
# Concrete binaries, not the distribution's alternatives links.
cp -f "$(readlink -f /usr/bin/etcd)" "$dest/etcd"
if [ ! -x "$dest/kubectl" ]; then
  # Debian's kubectl 1.20.2 matches the API server; extracted rather than installed, since the
  # machine may already own /usr/bin/kubectl through another package.
  (cd "$work" && rm -rf kubernetes-client_*.deb kc && apt-get download -qq kubernetes-client >&2 &&
    dpkg-deb -x kubernetes-client_*.deb kc)
  cp -f "$work/kc/usr/bin/kubectl" "$dest/kubectl"
fi
have_all "$dest" || { log "build incomplete in $dest"; exit 1; }
log "ready: $dest"
echo "$dest"
