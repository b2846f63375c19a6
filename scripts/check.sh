#!/bin/bash
# check.sh - build and run every test: unit tests (meson), integration tests
# (pytest on Debian's python, in a loopback-only network namespace), then
# the same again on a clang build with AddressSanitizer and
# UndefinedBehaviorSanitizer. Warnings are errors in both builds. Also the
# layout, the man pages, cppcheck, the Debian package (scripts/check-deb.sh)
# and a short run of each fuzzer.
# The last line sums up what ran: "check: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
PYTHON=${PYTHON:-/usr/bin/python3}
SHARDS=${SHARDS:-3}	# integration test processes at once: they mostly wait
passed=0 failed=0 skipped=0 status=0
log=$(mktemp -d)

count_meson() {	# "Ok: 6  Expected Fail: 0  Fail: 0 ..." lines
	local ok fail skip
	ok=$(grep -E '^Ok:' "$1" | awk '{print $2}')
	fail=$(grep -E '^Fail:' "$1" | awk '{print $2}')
	skip=$(grep -E '^Skipped:' "$1" | awk '{print $2}')
	passed=$((passed + ${ok:-0})) failed=$((failed + ${fail:-0})) skipped=$((skipped + ${skip:-0}))
}

count_pytest() {	# "40 passed, 1 skipped in 3.2s" (or framed by ===)
	local line n
	line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error|skipped).* in [0-9.]+s' "$1" | tail -1)
	for kind in passed failed error skipped; do
		n=$(echo "$line" | grep -oE "[0-9]+ $kind" | awk '{print $1}')
		case $kind in
		passed) passed=$((passed + ${n:-0})) ;;
		failed|error) failed=$((failed + ${n:-0})) ;;
		skipped) skipped=$((skipped + ${n:-0})) ;;
		esac
	done
	[ -n "$line" ] || { echo "check: pytest printed no summary" >&2; failed=$((failed + 1)); }
}

run_suite() {	# name builddir
	local name=$1 dir=$2
	echo "== $name: unit tests"
	meson test -C "$dir" --print-errorlogs 2>&1 | tee "$log/$name-unit" || status=1
	count_meson "$log/$name-unit"
	echo "== $name: integration tests ($SHARDS shards at once, each in its own namespace)"
	local k pids=()
	for k in $(seq 1 "$SHARDS"); do
		HIKYAKU_SHARD="$k/$SHARDS" HIKYAKU_BIN="$PWD/$dir/hikyaku" scripts/netns-run \
			"$PYTHON" -m pytest -q -p no:cacheprovider --basetemp="$log/tmp-$name-$k" \
			tests/integration >"$log/$name-integration-$k" 2>&1 &
		pids+=($!)
	done
	for k in $(seq 1 "$SHARDS"); do
		wait "${pids[$((k - 1))]}" || status=1
		echo "-- shard $k/$SHARDS"
		cat "$log/$name-integration-$k"
		count_pytest "$log/$name-integration-$k"
	done
}

echo "== gcc build (-Werror)"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" || exit 1
ninja -C "$BUILD" || exit 1
echo "== clang build with ASan+UBSan (-Werror)"
if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
	CC=clang meson setup "$ASAN_BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug -Dfuzz=true || exit 1
fi
ninja -C "$ASAN_BUILD" || exit 1

echo "== layout: includes point down the data flow"
if "$PYTHON" scripts/check-layout.py; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

echo "== man pages: every keyword and verb documented, groff -ww clean"
if "$PYTHON" scripts/check-man.py; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

echo "== cppcheck (warning, performance, portability)"
if cppcheck --enable=warning,performance,portability --inline-suppr --error-exitcode=1 -q \
	-D_GNU_SOURCE -Isrc --std=c11 src/; then
	echo "cppcheck: clean"
	passed=$((passed + 1))
else
	echo "cppcheck: FAILED"
	failed=$((failed + 1))
fi

echo "== i18n: po/ja.po translates every message (msgfmt --check --statistics)"
if scripts/check-i18n.sh; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

run_suite gcc "$BUILD"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_suite asan "$ASAN_BUILD"

echo "== Debian package: build, lintian, install/run/remove/purge in a Debian 12 chroot"
BUILD="$BUILD" scripts/check-deb.sh 2>&1 | tee "$log/deb"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
line=$(grep -E '^deb: [0-9]+ passed, [0-9]+ failed' "$log/deb" | tail -1)
n=$(echo "$line" | grep -oE '[0-9]+ passed' | awk '{print $1}')
f=$(echo "$line" | grep -oE '[0-9]+ failed' | awk '{print $1}')
passed=$((passed + ${n:-0})) failed=$((failed + ${f:-1}))

echo "== fuzz: each target for ${FUZZ_SECONDS:=8} s on its corpus"
for t in "$ASAN_BUILD"/tests/fuzz/fuzz_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue	# not the .p object folders
	name=$(basename "$t")
	mkdir -p "$log/$name"
	if "$t" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$log/$name" \
		"tests/fuzz/corpus/$name" >"$log/$name.out" 2>&1; then
		echo "$name: ok, $(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log/$name.out" | grep -oE '[0-9]+$') runs"
		passed=$((passed + 1))
	else
		tail -40 "$log/$name.out"
		echo "$name: FAILED (crash input saved in $PWD/crash-* / leak-*)"
		failed=$((failed + 1))
	fi
done

rm -rf "$log"
[ "$failed" -eq 0 ] || status=1
echo "check: $passed passed, $failed failed, $skipped skipped"
exit $status
