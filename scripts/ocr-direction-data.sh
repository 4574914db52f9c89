#!/usr/bin/env bash
# Images for a text-direction classifier, rendered from real text with Debian's DejaVu fonts
# (scripts/lib/RenderTextLines.java: each line a crop of 2 to 7 words, upright = label 0 and turned
# by 180 degrees = label 1, as PaddleOCR's cls model reads them). Into OUT_DIR:
#   calibration.npz              512 crops of Debian package descriptions, DejaVu Sans
#   evaluation.npz + -labels.txt 600 crops of the 300 held-out sentences (never calibrated on)
#   licenses.npz + -labels.txt   600 crops of license text in DejaVu Serif: another text and
#                                another typeface (out of domain)
# Usage: scripts/ocr-direction-data.sh OUT_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/ocr-direction-data.sh OUT_DIR}
. "$root/scripts/lib/ocr-text.sh"
render() { java "$root/scripts/lib/RenderTextLines.java" "$@" >&2; }
render "$fonts/DejaVuSans.ttf" "$out/text/calibration.txt" "$out/calibration.npz" \
  "$out/calibration-labels.txt" 256
render "$fonts/DejaVuSans.ttf" "$out/text/evaluation.txt" "$out/evaluation.npz" \
  "$out/evaluation-labels.txt" 300
render "$fonts/DejaVuSerif.ttf" "$out/text/licenses.txt" "$out/licenses.npz" \
  "$out/licenses-labels.txt" 300
