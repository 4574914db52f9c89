#!/usr/bin/env bash
# Installs the outside OIP v2 gRPC client the tests drive (Node's @grpc/grpc-js and
# @grpc/proto-loader from npm, versions locked in inference-pod/src/test/node/package-lock.json)
# into DIR, with Node itself from Debian where it is missing. Prints DIR.
# Usage: scripts/grpc-node-client.sh DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: scripts/grpc-node-client.sh DIR}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends nodejs npm >&2
fi
mkdir -p "$dir"
src="$root/inference-pod/src/test/node"
if ! cmp -s "$src/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules" ]; then
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
fi
cp "$src/oip-client.js" "$dir/"
echo "$dir"
