#!/usr/bin/env bash
# Upright crops of real text for a text recognizer (PaddleOCR's PP-OCRv4 rec reads the lines the
# direction classifier has turned upright), rendered as scripts/ocr-direction-data.sh renders them
# (height 48, pixels scaled to [-1, 1]) from the same text: each line once, upright, 1 to 3
# words of it, at most 320 wide as the recognizer reads them (3 x 48 x 320). Into OUT_DIR:
#   calibration.npz   256 crops of Debian package descriptions, DejaVu Sans
#   evaluation.npz    300 crops of the 300 held-out sentences (never calibrated on)
#   licenses.npz      300 crops of license text in DejaVu Serif (out of domain)
# A recognizer's outputs are compared as they are (task tensor): there are no labels.
# Usage: scripts/ocr-recognition-data.sh OUT_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/ocr-recognition-data.sh OUT_DIR}
. "$root/scripts/lib/ocr-text.sh"
render() { java "$root/scripts/lib/RenderTextLines.java" "$@" upright >&2; }
labels=$(mktemp)
trap 'rm -f "$labels"' EXIT
render "$fonts/DejaVuSans.ttf" "$out/text/calibration.txt" "$out/calibration.npz" "$labels" 256
render "$fonts/DejaVuSans.ttf" "$out/text/evaluation.txt" "$out/evaluation.npz" "$labels" 300
render "$fonts/DejaVuSerif.ttf" "$out/text/licenses.txt" "$out/licenses.npz" "$labels" 300
