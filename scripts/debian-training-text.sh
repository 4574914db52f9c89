#!/usr/bin/env bash
# Writes OUT_DIR/training.txt: up to MAX (default 60000) English sentences from the long
# descriptions of every package in Debian bookworm (the archive's Translation-en index, about 13 MB,
# fetched once with apt into ~/.cache/sparserollout/apt), for fine-tuning by distillation, and
# OUT_DIR/training-labels.txt: the Debian section of each sentence's package (from the Packages
# index), line by line, the labels of the task loss (the held-out labels are sections too).
# Sentences are cut and filtered by scripts/lib/DebianSentences.pm, as in debian-sentences.sh; every
# sentence whose hash puts it in the held-out bucket is left out, as is every line of
# OUT_DIR/evaluation.txt: no held-out sentence is ever trained on.
set -euo pipefail
out=${1:?usage: debian-training-text.sh OUT_DIR [MAX]}
max=${2:-60000}
cache=${SPARSEROLLOUT_CACHE:-$HOME/.cache/sparserollout}/apt
mkdir -p "$out" "$cache/lists/partial"
index=$(ls "$cache"/lists/*_debian_dists_bookworm_main_i18n_Translation-en* 2>/dev/null | head -1 || true)
packages=$(ls "$cache"/lists/*_debian_dists_bookworm_main_binary-amd64_Packages* 2>/dev/null | head -1 || true)
if [ -z "$index" ] || [ -z "$packages" ]; then
  # Our own lists directory: the machine's apt state is left as it was.
  apt-get -q -o Dir::State::Lists="$cache/lists" -o Acquire::Languages=en \
    -o Debug::NoLocking=1 update >&2
  index=$(ls "$cache"/lists/*_debian_dists_bookworm_main_i18n_Translation-en* | head -1)
  packages=$(ls "$cache"/lists/*_debian_dists_bookworm_main_binary-amd64_Packages* | head -1)
fi
touch "$out/evaluation.txt"
/usr/lib/apt/apt-helper cat-file "$index" | perl -I"$(dirname "$0")/lib" -MDebianSentences=sentences -MDigest::MD5=md5_hex -ne '
  BEGIN {
    open(my $e, "<", "'"$out"'/evaluation.txt") or die;
    while (<$e>) { chomp; $held{$_} = 1 }
    open(my $p, "-|", "/usr/lib/apt/apt-helper", "cat-file", "'"$packages"'") or die;
    while (<$p>) {
      $name = $1 if /^Package: (\S+)/;
      if (/^Section: (\S+)/) { ($section{$name} = $1) =~ s{.*/}{} }
    }
  }
  if (/^Description-en: /) { $in = 1; next }
  if ($in && /^ (.*)/) { $text .= " $1"; next }
  if ($in) {
    $in = 0;
    for my $s (sentences($text)) {
      next if exists $seen{$s} || $held{$s};
      my $h = md5_hex($s);
      next if hex(substr($h, 0, 2)) % 4 == 0;
      $seen{$s} = $h;
      $label{$s} = $section{$package} // "unknown";
    }
    $text = "";
  }
  $package = $1 if /^Package: (\S+)/;
  END {
    my @all = sort { $seen{$a} cmp $seen{$b} } keys %seen;
    splice(@all, '"$max"') if @all > '"$max"';
    open(my $t, ">", "'"$out"'/training.txt") or die; print $t "$_\n" for @all;
    open(my $l, ">", "'"$out"'/training-labels.txt") or die; print $l "$label{$_}\n" for @all;
  }
'
wc -l "$out/training.txt" "$out/training-labels.txt" >&2
