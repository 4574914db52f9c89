package DebianSentences;
# The sentences of one package's long description, cut and filtered one way for every script:
# the held-out split is made by a hash of exactly these strings.
use strict;
use warnings;
use Exporter 'import';
our @EXPORT_OK = qw(sentences);

sub sentences {
  my ($text) = @_;
  my @out;
  for my $s (split /(?<=\.)\s+/, $text) {
    $s =~ s/^\s+|\s+$//g;
    next if $s eq "." || length($s) < 30 || length($s) > 200 || $s !~ /^[A-Z]/ || $s =~ /[*\/<>{}]|https?:/;
    push @out, $s;
  }
  return @out;
}

1;
