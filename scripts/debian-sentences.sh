#!/usr/bin/env bash
# Writes English sentences from the package descriptions in /var/lib/dpkg/status (present on every
# Debian machine; no network) into two disjoint files:
#   OUT_DIR/calibration.txt  up to 1024 sentences for calibration and training
#   OUT_DIR/evaluation.txt   up to 300 held-out sentences, never in calibration.txt
#   OUT_DIR/evaluation-labels.txt  the Debian section (libs, devel, utils, ...) of each
#                            evaluation sentence's package, line by line: labels for the task
#                            metrics (accuracy, NDCG, PNR)
#   OUT_DIR/calibration-labels.txt  the same for calibration.txt: what a classification head
#                            is trained on (sparsify head), never on the evaluation sentences
# Sentences are split and ordered by a hash of their text, so installing more packages adds
# sentences but does not move existing ones from one file to the other.
set -euo pipefail
out=${1:?usage: debian-sentences.sh OUT_DIR}
mkdir -p "$out"
perl -I"$(dirname "$0")/lib" -MDebianSentences=sentences -MDigest::MD5=md5_hex -ne '
  if (/^Section: (.*)/) { $section = $1; $section =~ s{.*/}{}; next }
  if (/^Description: (.*)/) { $in = 1; next }
  if ($in && /^ (.*)/) { $text .= " $1"; next }
  if ($in) {
    $in = 0;
    for my $s (sentences($text)) {
      next if exists $seen{$s};
      $seen{$s} = md5_hex($s);
      $label{$s} = $section || "unknown";
    }
    $text = "";
  }
  END {
    my @all = sort { $seen{$a} cmp $seen{$b} } keys %seen;
    my (@eval, @cal);
    for my $s (@all) {
      if (hex(substr($seen{$s}, 0, 2)) % 4 == 0) { push @eval, $s if @eval < 300 }
      else { push @cal, $s if @cal < 1024 }
    }
    open(my $e, ">", "'"$out"'/evaluation.txt") or die; print $e "$_\n" for @eval;
    open(my $l, ">", "'"$out"'/evaluation-labels.txt") or die; print $l "$label{$_}\n" for @eval;
    open(my $c, ">", "'"$out"'/calibration.txt") or die; print $c "$_\n" for @cal;
    open(my $cl, ">", "'"$out"'/calibration-labels.txt") or die; print $cl "$label{$_}\n" for @cal;
  }
' /var/lib/dpkg/status
wc -l "$out/calibration.txt" "$out/calibration-labels.txt" "$out/evaluation.txt" \
  "$out/evaluation-labels.txt" >&2
