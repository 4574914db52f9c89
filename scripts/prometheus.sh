#!/usr/bin/env bash
# Prints the path of a Prometheus server binary for tests (`scripts/prometheus.sh promtool`: of its
# promtool): $PROMETHEUS (or $PROMTOOL) when set, otherwise Debian's prometheus package, downloaded (not
# installed: no root, no service started) and extracted once into
# ${SPARSEROLLOUT_CACHE:-~/.cache/sparserollout}/prometheus/. Progress on stderr, the path on
# stdout.
set -euo pipefail
tool=${1:-prometheus}
if [[ "$tool" != prometheus && "$tool" != promtool ]]; then
  echo "usage: $0 [prometheus|promtool]" >&2
  exit 2
fi
if [[ "$tool" == prometheus && -n "${PROMETHEUS:-}" ]]; then
  echo "$PROMETHEUS"
  exit 0
fi
if [[ "$tool" == promtool && -n "${PROMTOOL:-}" ]]; then
  echo "$PROMTOOL"
  exit 0
fi
cache_root=${SPARSEROLLOUT_CACHE:-$HOME/.cache/sparserollout}
dest="$cache_root/prometheus"
if [[ ! -x "$dest/usr/bin/prometheus" ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "prometheus.sh: downloading Debian's prometheus package" >&2
  (cd "$work" && apt-get download -qq prometheus >&2)
  mkdir -p "$dest"
  dpkg-deb -x "$work"/prometheus_*.deb "$dest"
fi
"$dest/usr/bin/$tool" --version >&2
echo "$dest/usr/bin/$tool"
