# Sourced by the OCR data scripts: Debian's DejaVu fonts (installed where missing) and the text the
# crops are rendered from, in "$out/text": the Debian sentences (scripts/debian-sentences.sh) and
# the license sentences (scripts/license-sentences.sh). Needs $root and $out.
fonts=/usr/share/fonts/truetype/dejavu
if [ ! -f "$fonts/DejaVuSerif.ttf" ]; then
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends fonts-dejavu-core >&2
fi
mkdir -p "$out"
"$root/scripts/debian-sentences.sh" "$out/text" >/dev/null 2>&1
"$root/scripts/license-sentences.sh" "$out/text/licenses.txt" >/dev/null 2>&1
