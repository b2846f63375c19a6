#!/bin/sh
# install-deps.sh - install the Debian packages hikyaku needs to build and test.
# Usage: scripts/install-deps.sh [build|test|bench|deb]
#   deb: what "make deb" needs (debian/control's Build-Depends and dpkg-dev)
# Installs only what is missing, non-interactively. Needs root (or sudo).
set -eu
BUILD="gcc clang libclang-rt-14-dev meson ninja-build pkg-config libssl-dev libevent-dev libunbound-dev
libsqlite3-dev libcrypt-dev libmicrohttpd-dev openssl gettext publicsuffix libcurl4-openssl-dev
zlib1g-dev dns-root-data"
TEST="$BUILD python3 python3-pytest python3-aiosmtpd swaks msmtp curl postfix
libsasl2-modules sqlite3 iproute2 fail2ban libnet-ssleay-perl libio-socket-ssl-perl
unbound python3-dkim python3-nacl python3-dnspython python3-spf libmail-dkim-perl libnet-dns-perl
strace cppcheck nftables locales python3-cryptography ldnsutils
prometheus systemd groff-base man-db debootstrap lintian debhelper fakeroot dpkg-dev
libdb5.3 libpam0g libgnutls-dane0 libgnutls30 libidn12 libnsl2 libpcre2-8-0 libstdc++6"
# Home MTAs that conflict with postfix as packages: the home-config tests run
# their real programs unpacked (apt-get download, dpkg-deb -x) in $HOME_MTAS,
# one folder each, never installed. The libraries they need are in TEST.
HOME_MTAS=${HIKYAKU_TEST_MTAS:-/opt/hikyaku-test/mtas}
HOME_MTA_PKGS="opensmtpd:opensmtpd exim4:exim4-daemon-light exim4:exim4-base exim4:exim4-config
nullmailer:nullmailer"
# The benchmarks' peers: Postfix + OpenDKIM, Postfix's Cyrus SASL, perf.
BENCH="$TEST opendkim opendkim-tools sasl2-bin libsasl2-modules linux-perf"
DEB="$BUILD debhelper dpkg-dev"
case "${1:-build}" in
build) want=$BUILD ;;
test) want=$TEST ;;
bench) want=$BENCH ;;
deb) want=$DEB ;;
*) echo "usage: $0 [build|test|bench|deb]" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo

install_missing() {
	[ -z "$missing" ] && return 0
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# postfix asks questions at install time; answer them up front.
	echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
	# Packages such as postfix and fail2ban start system services when installed;
	# tests run their own instances, so keep the system ones from starting.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null
		$SUDO chmod 755 $policy
		trap '$SUDO rm -f $policy' EXIT
	fi
	$SUDO apt-get update -q
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends $missing
	$SUDO postfix stop >/dev/null 2>&1 || true
}

# ja_JP.UTF-8 for the tests of the Japanese messages.
japanese_locale() {
	locale -a 2>/dev/null | grep -qix 'ja_JP.utf8' && return 0
	echo "generating the ja_JP.UTF-8 locale"
	if grep -q '^# *ja_JP.UTF-8 UTF-8' /etc/locale.gen; then
		$SUDO sed -i 's/^# *ja_JP.UTF-8 UTF-8/ja_JP.UTF-8 UTF-8/' /etc/locale.gen
	else
		echo 'ja_JP.UTF-8 UTF-8' | $SUDO tee -a /etc/locale.gen >/dev/null
	fi
	$SUDO locale-gen
}

# OpenSMTPD, Exim and nullmailer unpacked for the home-config tests.
home_mtas() {
	[ -f "$HOME_MTAS/.unpacked" ] && return 0
	echo "unpacking opensmtpd, exim4 and nullmailer into $HOME_MTAS (not installed)"
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	pkgs=""
	for pair in $HOME_MTA_PKGS; do pkgs="$pkgs ${pair#*:}"; done
	# shellcheck disable=SC2086
	(cd "$tmp" && $SUDO apt-get download -q $pkgs) || { rm -rf "$tmp"; return 1; }
	$SUDO rm -rf "$HOME_MTAS"
	for pair in $HOME_MTA_PKGS; do
		$SUDO mkdir -p "$HOME_MTAS/${pair%%:*}"
		$SUDO dpkg-deb -x "$tmp/${pair#*:}"_*.deb "$HOME_MTAS/${pair%%:*}"
	done
	rm -rf "$tmp"
	# mount points: the OpenSMTPD test binds its own directories over them
	$SUDO mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd
	$SUDO touch "$HOME_MTAS/.unpacked"
}

install_missing
if [ "${1:-build}" != build ]; then
	japanese_locale
	home_mtas
fi
