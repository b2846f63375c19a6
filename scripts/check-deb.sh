#!/bin/bash
# check-deb.sh - the package tests, run by make check (scripts/check.sh):
#   1. make the .deb (scripts/make-deb.sh) into BUILD/deb/;
#   2. lintian on it: no errors;
#   3. a clean Debian 12 chroot with the package's dependencies, made with
#      debootstrap once and kept in BUILD/deb-chroot/ (remade when the
#      dependencies change) - the only step that needs a Debian mirror;
#   4. tests/package/test_deb.py in a loopback-only network namespace, each
#      test on a throw-away overlay of that chroot.
# Prints "deb: N passed, N failed" (for check.sh to count) and exits 1 on a failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${DEBIAN_SUITE:-bookworm}
out=$PWD/$BUILD/deb
cache=$PWD/$BUILD/deb-chroot
passed=0 failed=0

result() {	# name status
	if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

finish() {
	echo "deb: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

mkdir -p "$out" "$cache"
echo "== deb: make-deb"
if ! DEB_OUT=$out scripts/make-deb.sh >"$out/build.log" 2>&1; then
	tail -40 "$out/build.log"
	result build 1
	finish
fi
result build 0
deb=$(ls -t "$out"/hikyaku_*.deb | head -1)
echo "built $deb"

echo "== deb: lintian"
lintian --tag-display-limit 0 "$deb" >"$out/lintian.log" 2>&1
cat "$out/lintian.log"
errors=$(grep -c '^E: ' "$out/lintian.log")
echo "lintian: $errors errors, $(grep -c '^W: ' "$out/lintian.log") warnings"
result lintian "$errors"

echo "== deb: Debian $SUITE chroot"
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' |
	grep -v '^$' | sort -u | paste -sd, -)
if [ ! -f "$cache/base/.hikyaku-deps" ] || [ "$(cat "$cache/base/.hikyaku-deps")" != "$deps" ]; then
	rm -rf "$cache/base" "$cache/base.new"
	echo "debootstrap --variant=minbase $SUITE with $deps (once per build tree)"
	if debootstrap --variant=minbase --include="$deps" "$SUITE" "$cache/base.new" "$MIRROR" \
		>"$cache/debootstrap.log" 2>&1; then
		rm -f "$cache/base.new/var/cache/apt/archives/"*.deb
		echo "$deps" >"$cache/base.new/.hikyaku-deps"
		mv "$cache/base.new" "$cache/base"
	else
		tail -20 "$cache/debootstrap.log"
		echo "deb: debootstrap failed (is $MIRROR reachable?)"
		result chroot 1
		finish
	fi
else
	echo "reusing $cache/base"
fi

echo "== deb: package tests"
HIKYAKU_DEB=$deb HIKYAKU_DEB_CHROOT=$cache/base scripts/netns-run "$PYTHON" -m pytest -q \
	-p no:cacheprovider tests/package 2>&1 | tee "$out/tests.log"
line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error|skipped).* in [0-9.]+s' "$out/tests.log" | tail -1)
n=$(echo "$line" | grep -oE '[0-9]+ passed' | awk '{print $1}')
f=$(echo "$line" | grep -oE '[0-9]+ (failed|error)' | awk '{s += $1} END {print s + 0}')
s=$(echo "$line" | grep -oE '[0-9]+ skipped' | awk '{print $1}')
passed=$((passed + ${n:-0})) failed=$((failed + ${f:-0} + ${s:-0}))
[ -n "$line" ] || failed=$((failed + 1))
finish
