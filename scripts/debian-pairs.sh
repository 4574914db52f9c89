#!/usr/bin/env bash
# Query-document pairs with graded relevance, for rankers, from text every Debian machine has
# (no network). Each line of a .tsv is query<TAB>document; the .grades file beside it holds the
# grade of each line (2 relevant, 1 related, 0 not).
#   OUT_DIR/ranking-train.tsv, ranking-train-grades.txt  up to 150 queries: training the head and
#       calibration
#   OUT_DIR/ranking-eval.tsv, ranking-eval-grades.txt    up to 60 held-out queries, of packages
#       that are never in the training file (split by a hash of the package's description)
#   OUT_DIR/ranking-licenses.tsv, ranking-licenses-grades.txt  out of domain: the licenses in
#       /usr/share/common-licenses
# Debian: the query is a package's synopsis (its one-line description); its documents are up to 2
# sentences of that package's long description (grade 2), up to 2 of another package of the same
# section (grade 1) and 4 of packages of other sections (grade 0), all from the same split.
# Licenses: the query is a sentence of a license; its documents are the sentence after it (2),
# another sentence of the same license (1) and 4 sentences of other licenses (0).
# A query's documents are distinct (each at its best grade), no line holds a second tab, and no
# held-out query or document is in the training file. Choices are made by hashes of the text, so
# the files are the same on every run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: debian-pairs.sh OUT_DIR}
mkdir -p "$out"
perl -I"$root/scripts/lib" -MDebianSentences=sentences -MDigest::MD5=md5_hex -e '
  my $out = shift;
  my (%synopsis, %section, %text, $pkg, $in);
  while (<STDIN>) {
    if (/^Package: (.*)/) { $pkg = $1; $text{$pkg} = ""; next }  # multiarch repeats a stanza
    if (/^Section: (.*)/) { ($section{$pkg} = $1) =~ s{.*/}{}; next }
    if (/^Description: (.*)/) { $synopsis{$pkg} = $1; $in = 1; next }
    if ($in && /^ (.*)/) { $text{$pkg} .= " $1"; next }
    $in = 0;
  }
  my (%split, %sentences);
  for my $p (keys %synopsis) {
    (my $synopsis = $synopsis{$p}) =~ s/\s+/ /g;
    $synopsis{$p} = $synopsis;
    my @s = map { (my $x = $_) =~ s/\s+/ /g; $x } sentences($text{$p} // "");
    next unless @s && length($synopsis) >= 10;
    $sentences{$p} = [sort { md5_hex($a) cmp md5_hex($b) } @s];
    # By the description, not the name: packages that share a description share a split.
    $split{$p} = hex(substr(md5_hex($text{$p}), 0, 2)) % 4 == 0 ? "eval" : "train";
  }
  my (%seen, %in_train);
  for my $part (["train", 150], ["eval", 60]) {
    my ($name, $limit) = @$part;
    my @pkgs = sort { md5_hex($a) cmp md5_hex($b) } grep { $split{$_} eq $name } keys %split;
    open(my $t, ">", "$out/ranking-$name.tsv") or die;
    open(my $g, ">", "$out/ranking-$name-grades.txt") or die;
    my $queries = 0;
    for my $p (@pkgs) {
      last if $queries >= $limit;
      next if $seen{$synopsis{$p}}++ || $in_train{$synopsis{$p}};  # one group per query text
      my $sec = $section{$p} // "unknown";
      my $key = sub { md5_hex($p . $_[0]) };
      my @same = sort { $key->($a) cmp $key->($b) } grep { $_ ne $p && ($section{$_} // "unknown") eq $sec } @pkgs;
      my @other = sort { $key->($a) cmp $key->($b) } grep { ($section{$_} // "unknown") ne $sec } @pkgs;
      my @docs;
      push @docs, [$_, 2] for grep { defined } @{$sentences{$p}}[0 .. 1];
      push @docs, [$sentences{$_}[0], 1] for grep { defined } @same[0 .. 1];
      push @docs, [$sentences{$_}[0], 0] for grep { defined } @other[0 .. 3];
      # A document once per query, at its best grade (packages share sentences), and none that
      # the training file holds.
      my %grade;
      for my $d (@docs) {
        next if $name eq "eval" && $in_train{$d->[0]};
        $grade{$d->[0]} = $d->[1] if !exists $grade{$d->[0]} || $grade{$d->[0]} < $d->[1];
      }
      next if keys %grade < 2 || !grep { $_ == 2 } values %grade;
      for my $d (sort { $key->($a) cmp $key->($b) } keys %grade) {
        print $t "$synopsis{$p}\t$d\n";
        print $g "$grade{$d}\n";
        $in_train{$d} = 1 if $name eq "train";
      }
      $in_train{$synopsis{$p}} = 1 if $name eq "train";
      $queries++;
    }
  }
' "$out" </var/lib/dpkg/status
perl -I"$root/scripts/lib" -MDebianSentences=sentences -MDigest::MD5=md5_hex -e '
  my $out = shift;
  my (%by, %asked);
  for my $f (qw(Apache-2.0 Artistic BSD CC0-1.0 GFDL-1.3 GPL-3 LGPL-2.1 MPL-2.0)) {
    local $/;
    open(my $in, "<", "/usr/share/common-licenses/$f") or die;
    (my $t = <$in>) =~ s/\s+/ /g;
    $by{$f} = [sentences($t)];
  }
  open(my $t, ">", "$out/ranking-licenses.tsv") or die;
  open(my $g, ">", "$out/ranking-licenses-grades.txt") or die;
  for my $f (sort keys %by) {
    my @s = @{$by{$f}};
    my @picks = sort { md5_hex($a) cmp md5_hex($b) } 0 .. $#s - 1;
    for my $i (@picks[0 .. 7]) {
      next unless defined $i;
      my $query = $s[$i];
      next if $asked{$query}++;  # a sentence two licenses share is one query
      my $key = sub { md5_hex($query . $_[0]) };
      my ($related) = sort { $key->($a) cmp $key->($b) } grep { $_ ne $query && $_ ne $s[$i + 1] } @s;
      my %own = map { $_ => 1 } @s;  # licenses share sentences: none of its own is "other"
      my @others = sort { $key->($a) cmp $key->($b) } grep { !$own{$_} }
        map { @{$by{$_}} } grep { $_ ne $f } keys %by;
      my %grade;
      for my $d ([$s[$i + 1], 2], [$related, 1], map { [$_, 0] } @others[0 .. 3]) {
        next unless defined $d->[0] && $d->[0] ne $query;
        $grade{$d->[0]} = $d->[1] if !exists $grade{$d->[0]} || $grade{$d->[0]} < $d->[1];
      }
      for my $d (sort { $key->($a) cmp $key->($b) } keys %grade) {
        print $t "$query\t$d\n";
        print $g "$grade{$d}\n";
      }
    }
  }
' "$out"
wc -l "$out"/ranking-*.tsv >&2
