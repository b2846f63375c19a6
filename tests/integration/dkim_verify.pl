#!/usr/bin/perl
# dkim_verify.pl - verify the DKIM signatures of the message on stdin with
# Mail::DKIM, asking only the DNS server ADDR:PORT for keys.
#   perl dkim_verify.pl ADDR PORT < message
# Prints one line per signature: "ALGO DOMAIN SELECTOR RESULT_DETAIL",
# then "overall RESULT_DETAIL".
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;

my ($addr, $port) = @ARGV;
die "usage: $0 ADDR PORT < message\n" unless defined $port;
my $res = Net::DNS::Resolver->new(
	nameservers => [$addr], port => $port, recurse => 1,
	tcp_timeout => 5, udp_timeout => 5, retry => 2, defnames => 0, dnsrch => 0);
Mail::DKIM::DNS::resolver($res);
my $dkim = Mail::DKIM::Verifier->new();
binmode STDIN;
while (my $line = <STDIN>) {
	$line =~ s/\015?\012\z/\015\012/;
	$dkim->PRINT($line);
}
$dkim->CLOSE;
foreach my $sig ($dkim->signatures) {
	printf "%s %s %s %s\n", $sig->algorithm, $sig->domain, $sig->selector,
	    $sig->result_detail;
}
printf "overall %s\n", $dkim->result_detail;
