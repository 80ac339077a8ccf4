#!/usr/bin/env bash
# make test: builds everything, runs the unit tests built with
# AddressSanitizer + UBSan, then the integration and crash tests against the
# sanitized binaries (the Kore application excepted), and ends with one
# summary line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" all >/dev/null || { echo "build failed"; make all 2>&1 | tail -30; echo "0 passed, 1 failed"; exit 1; }
make -j"$jobs" SAN=1 all >/dev/null || { echo "sanitized build failed"; make SAN=1 all 2>&1 | tail -30; echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=66
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
passed=0
failed=0

echo "== unit tests (ASan + UBSan)"
for t in build/san/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1)
	rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1   # crashed, or a sanitizer report after the tests passed
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		printf 'FAIL %s\n%s\n' "$t" "$out" | tail -60
	else
		printf 'ok   %s (%d tests)\n' "$t" "$p"
	fi
done

echo "== integration and crash tests"
out_file=$(mktemp)
HEAPSTER_BIN="$PWD/build/san" python3 tests/integration/run.py "$@" 2>&1 | tee "$out_file"
last=$(tail -1 "$out_file")
rm -f "$out_file"
ip=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
if=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
if [ -z "$ip" ]; then
	echo "integration runner did not finish"
	ip=0
	if=1
fi
passed=$((passed + ip))
failed=$((failed + if))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
