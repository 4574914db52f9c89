#!/usr/bin/env bash
# Text of another domain than the Debian package descriptions: every sentence of the licenses in
# /usr/share/common-licenses (Debian's base-files), cut and filtered as the Debian sentences are,
# once each, sorted.
#   scripts/license-sentences.sh OUT_FILE
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$1
for f in Apache-2.0 Artistic BSD CC0-1.0 GFDL-1.3 GPL-3 LGPL-2.1 MPL-2.0; do
  cat "/usr/share/common-licenses/$f"; echo
done | perl -I"$root/scripts/lib" -MDebianSentences=sentences -e \
  'local $/; my $t = <STDIN>; $t =~ s/\s+/ /g; my %s; $s{$_}++ for sentences($t); print "$_\n" for sort keys %s' \
  >"$out"
