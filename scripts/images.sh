#!/usr/bin/env bash
# Builds the project's container images as OCI image archives, offline, from Debian packages:
#
#   target/images/operator.tar        docker.io/sparserollout/operator:<version>
#   target/images/sparsify.tar        docker.io/sparserollout/sparsify:<version>
#   target/images/inference-pod.tar   docker.io/sparserollout/inference-pod:<version>
#   target/images/pause.tar           docker.io/sparserollout/pause:<version> (the local node's sandbox)
#
# and prints target/images. The base is a Debian bookworm minbase with the JRE, made by mmdebstrap
# and cached under ${SPARSEROLLOUT_CACHE:-~/.cache/sparserollout}/images (2-3 minutes once); the
# project's layers go on top with umoci, and skopeo writes each archive. An image whose inputs are
# unchanged since the last run is not rebuilt. Needs the modules built (./mvnw -B package).
#
# Images run as any non-root user with a read-only root filesystem: the JVM, ONNX Runtime, DJL and
# JavaCPP write only under /tmp, which every pod the operator creates mounts as an emptyDir.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -n 1)
[ "$version" = 0.1.0-SNAPSHOT ] && version=0.1.0
cache=${SPARSEROLLOUT_CACHE:-$HOME/.cache/sparserollout}/images
out=$root/target/images
log() { echo "[images] $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
for tool in mmdebstrap:mmdebstrap umoci:umoci skopeo:skopeo gcc:gcc; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
mkdir -p "$cache" "$out"

# The JRE and the shared libraries the native code in the jars loads (ONNX Runtime, the DJL
# tokenizer, JavaCPP's libtorch and OpenBLAS); docs, man pages and locales left out.
base_packages=openjdk-17-jre-headless,libstdc++6,libgomp1,libgfortran5,ca-certificates
base_key=$(printf '%s\n' "bookworm minbase $base_packages 1" | sha256sum | cut -c1-16)
layout=$cache/oci
if ! umoci stat --image "$layout:base-$base_key" >/dev/null 2>&1; then
  log "building the base image (Debian bookworm minbase + JRE) with mmdebstrap"
  rootfs=$(mktemp -d)/rootfs.tar
  # The host's own Debian sources: the same mirror (and suites) apt uses here.
  sources=/etc/apt/sources.list.d/debian.sources
  [ -f "$sources" ] || sources=/etc/apt/sources.list
  mmdebstrap --variant=minbase --include="$base_packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    bookworm "$rootfs" "$sources" >&2
  [ -d "$layout" ] || umoci init --layout "$layout"
  umoci new --image "$layout:base-$base_key"
  umoci raw add-layer --image "$layout:base-$base_key" "$rootfs"
  umoci config --image "$layout:base-$base_key" --config.user 65534 \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.env LANG=C.UTF-8 --os linux --architecture amd64
  rm -rf "$(dirname "$rootfs")"
fi

# The pause image: a static binary that sleeps until signalled, the sandbox every pod shares.
pause_src=$root/scripts/lib/pause.c
pause_key=$(cat "$pause_src" | sha256sum | cut -c1-16)
if ! umoci stat --image "$layout:pause-$pause_key" >/dev/null 2>&1; then
  log "building the pause image"
  dir=$(mktemp -d)
  mkdir -p "$dir/rootfs"
  gcc -static -Os -o "$dir/rootfs/pause" "$pause_src"
  (cd "$dir/rootfs" && tar --owner=0 --group=0 -cf "$dir/layer.tar" pause)
  [ -d "$layout" ] || umoci init --layout "$layout"
  umoci new --image "$layout:pause-$pause_key"
  umoci raw add-layer --image "$layout:pause-$pause_key" "$dir/layer.tar"
  umoci config --image "$layout:pause-$pause_key" --config.user 65534 \
    --config.entrypoint /pause --os linux --architecture amd64
  rm -rf "$dir"
fi

# name | base tag | files on this machine | where in the image | entrypoint (space-separated; set
# for the Java images, whose pods name no command)
jvm='java -XX:-UsePerfData -XX:+ExitOnOutOfMemoryError -Djava.io.tmpdir=/tmp -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp'
images=(
  "operator|base-$base_key|operator/target/quarkus-app|/deployments|$jvm -jar /deployments/quarkus-run.jar"
  "sparsify|base-$base_key|sparsify/target/image|/opt/sparsify|$jvm -jar /opt/sparsify/sparsify.jar"
  "inference-pod|base-$base_key|inference-pod/target/quarkus-app|/opt/inference-pod|$jvm -jar /opt/inference-pod/quarkus-run.jar"
  "pause|pause-$pause_key|||/pause"
)

# sparsify's image holds the jar and its lib/, not the rest of the module's build output.
if [ -f sparsify/target/sparsify.jar ]; then
  rm -rf sparsify/target/image
  mkdir -p sparsify/target/image
  cp -l sparsify/target/sparsify.jar sparsify/target/image/
  cp -rl sparsify/target/lib sparsify/target/image/lib
fi

script_key=$(cat "$0" | sha256sum | cut -c1-16)
for entry in "${images[@]}"; do
  IFS='|' read -r name base files target entrypoint <<<"$entry"
  reference=docker.io/sparserollout/$name:$version
  if [ -n "$files" ]; then
    [ -d "$files" ] || { log "$files is missing: build the modules first (./mvnw -B package -DskipTests)"; exit 1; }
    inputs=$( (cd "$files" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
  else
    inputs=none
  fi
  key="$script_key $base $inputs $reference"
  if [ -f "$out/$name.tar" ] && [ "$(cat "$out/$name.key" 2>/dev/null)" = "$key" ]; then
    continue
  fi
  log "building $reference"
  tag=app-$name
  umoci rm --image "$layout:$tag" 2>/dev/null || true
  umoci tag --image "$layout:$base" "$tag"
  if [ -n "$files" ]; then
    # Files readable by any user: pods pick their own non-root UID.
    umoci insert --image "$layout:$tag" "$files" "$target"
    args=()
    for word in $entrypoint; do args+=(--config.entrypoint "$word"); done
    umoci config --image "$layout:$tag" --config.user 1000 --config.workingdir /tmp \
      --config.env DJL_CACHE_DIR=/tmp/djl --config.env ENGINE_CACHE_DIR=/tmp/djl \
      --config.label "org.opencontainers.image.version=$version" \
      --config.label "org.opencontainers.image.title=sparserollout-$name" "${args[@]}"
  fi
  rm -f "$out/$name.tar"
  skopeo copy --quiet "oci:$layout:$tag" "oci-archive:$out/$name.tar:$reference" >&2
  echo "$key" >"$out/$name.key"
done
umoci gc --layout "$layout"
log "ready: $(cd "$out" && ls -1 ./*.tar | tr '\n' ' ')"
echo "$out"
