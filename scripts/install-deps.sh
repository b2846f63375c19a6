#!/bin/sh
# install-deps.sh - install the Debian packages hikyaku needs to build and test.
# Usage: scripts/install-deps.sh [build|test|bench]
# Installs only what is missing, non-interactively. Needs root (or sudo).
set -eu
BUILD="gcc clang libclang-rt-14-dev meson ninja-build pkg-config libssl-dev libevent-dev libunbound-dev
libsqlite3-dev libcrypt-dev openssl"
TEST="$BUILD python3 python3-pytest python3-aiosmtpd swaks msmtp curl postfix
libsasl2-modules sqlite3 iproute2 fail2ban libnet-ssleay-perl libio-socket-ssl-perl
unbound python3-dkim python3-nacl python3-dnspython libmail-dkim-perl libnet-dns-perl
strace cppcheck"
# The benchmarks' peers: Postfix + OpenDKIM, Postfix's Cyrus SASL, perf.
BENCH="$TEST opendkim opendkim-tools sasl2-bin libsasl2-modules linux-perf"
case "${1:-build}" in
build) want=$BUILD ;;
test) want=$TEST ;;
bench) want=$BENCH ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# postfix asks questions at install time; answer them up front.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# Packages such as postfix and fail2ban start system services when installed;
# tests run their own instances, so keep the system ones from starting.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e $policy ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null
	$SUDO chmod 755 $policy
	own_policy=yes
	trap '$SUDO rm -f $policy' EXIT
fi
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
$SUDO postfix stop >/dev/null 2>&1 || true
