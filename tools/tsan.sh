#!/usr/bin/env bash
# Data-race check of gilfree's thread pool and kernels with ThreadSanitizer,
# on the free-threaded CPython 3.13t with the GIL off.  Fails on any TSAN
# report not covered by tools/tsan-suppressions.txt (or on any test failure)
# and ends with one summary line:
#
#   tsan: OK: <N> passed, ...; <M> passed, ... (--parallel-threads=4); 0 ThreadSanitizer reports (<T> s)
#
# How:
#   * 3.13t comes from tools/get-pythons.sh (built once into
#     ~/.cache/gilfree-pythons); a venv of its own holds numpy, Cython,
#     pytest, hypothesis and pytest-run-parallel: $GILFREE_TSAN_VENV, default
#     ~/.cache/gilfree/tsan-py3.13t (reused; the gilfree build is always
#     fresh, and the shared 3.13t venv of tools/ft-check.sh is not touched);
#   * the source tree (tracked + untracked-not-ignored files) is staged in a
#     scratch folder and built there with GILFREE_SANITIZE=thread and
#     GILFREE_CFLAGS=-g (setup.py adds -fsanitize=thread to compile and link);
#   * GILFREE_OPENMP=0: the optional OpenMP module is left out by default,
#     because libgomp is not built with TSAN and its barriers are invisible
#     to it (every parallel region would report); TSAN_OPENMP=1 builds it;
#   * the interpreter and NumPy are not instrumented, so the TSAN runtime is
#     preloaded (LD_PRELOAD=$(gcc -print-file-name=libtsan.so)).  TSAN then
#     sees gilfree's own memory accesses, every pthread mutex/condvar/create/
#     join, and malloc/free; it does not see CPython's own atomics, so a
#     report whose stacks lie entirely inside CPython is about CPython's
#     synchronization, not gilfree's.  Those (and only those) are listed in
#     tools/tsan-suppressions.txt, each with the reason;
#   * the tests: tests/test_threads.py test_concurrency.py test_freethreading.py
#     test_range.py test_sum_of_squares.py (override with arguments; add
#     tests/test_square.py for its 3,881 cases, which take over an hour under
#     TSAN on 2 cores), run with `-X gil=0`; then the pool's own tests
#     (test_threads, test_concurrency, test_freethreading; or the arguments)
#     again with --parallel-threads=4 (pytest-run-parallel: every test not
#     marked thread_unsafe runs in 4 threads at once);
#   * TSAN_OPTIONS: halt_on_error=0 (count every report, do not stop at the
#     first), log_path=<scratch>/reports/tsan (catches the reports of test
#     subprocesses too), suppressions=tools/tsan-suppressions.txt,
#     print_suppressions=0; the script counts "WARNING: ThreadSanitizer" in
#     the logs and prints the first reports.
#
# Usage: tools/tsan.sh [pytest args]      e.g. tools/tsan.sh tests/test_threads.py -x
# Environment: GILFREE_TSAN_VENV, TSAN_SKIP_PARALLEL=1, TSAN_OPENMP=1,
#   HYPOTHESIS_PROFILE (default dev), KEEP=1 (keep the scratch folder).
# Not part of .ci/run: with the 3.13t build it takes far longer than CI's
# budget (docs/reliability-tools.md has a recorded run and its duration).

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T0=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gilfree-tsan.XXXXXX")
LOGS=$WORK/reports
mkdir -p "$LOGS"
cleanup() { [[ "${KEEP:-0}" == 1 ]] && echo "tsan: kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT
die() { echo "tsan: FAILED: $*"; exit 1; }

CC=${CC:-gcc}
LIBTSAN=$("$CC" -print-file-name=libtsan.so)
[[ -f "$LIBTSAN" ]] || die "no TSAN runtime ($CC -print-file-name=libtsan.so gave '$LIBTSAN')"
SUPP="$ROOT/tools/tsan-suppressions.txt"
[[ -f "$SUPP" ]] || die "no $SUPP"

echo "== free-threaded CPython 3.13t (tools/get-pythons.sh)"
paths=$(bash "$ROOT/tools/get-pythons.sh") || die "tools/get-pythons.sh failed"
PY=$(printf '%s\n' "$paths" | sed -n 's/^3\.13t: //p')
[[ -x "$PY" ]] || die "tools/get-pythons.sh gave no 3.13t interpreter"
VENV=${GILFREE_TSAN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/gilfree/tsan-py3.13t}
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PY" -m venv "$VENV" || die "cannot create venv $VENV"
fi
# --only-binary: numpy has cp313t wheels; some hypothesis sdists need Rust.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: \
    "numpy<2.5" "Cython>=3.1" "setuptools>=77" wheel pytest hypothesis "pytest-run-parallel>=0.7" \
    || die "cannot install build/test dependencies into $VENV"
echo "   $("$VENV/bin/python" -VV | head -1)"

echo "== stage source tree in $WORK/src"
mkdir -p "$WORK/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$WORK/src" || die "cannot stage the source tree"
rm -f "$WORK"/src/src/gilfree/*.so "$WORK"/src/src/gilfree/_core.c "$WORK"/src/src/gilfree/_openmp.c \
    "$WORK"/src/src/gilfree/_pfor.c \
    "$WORK"/src/src/gilfree/_buffer.c
rm -rf "$WORK/src/build"

echo "== build with GILFREE_SANITIZE=thread (OpenMP module: ${TSAN_OPENMP:-0})"
"$VENV/bin/python" -m pip uninstall -y -q gilfree >/dev/null 2>&1
(cd "$WORK/src" && CC="$CC" GILFREE_SANITIZE=thread GILFREE_CFLAGS="-g" \
    GILFREE_OPENMP=$([[ "${TSAN_OPENMP:-0}" == 1 ]] && echo 1 || echo 0) \
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps .) \
    > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; die "build failed"; }
SO=$(LD_PRELOAD="$LIBTSAN" "$VENV/bin/python" -X gil=0 -c 'import gilfree._core as c; print(c.__file__)') ||
    die "cannot import the TSAN build"
grep -q libtsan < <(ldd "$SO") || die "$SO is not linked against libtsan"
echo "   $SO: $(ldd "$SO" | grep -o 'libtsan[^ ]*' | sort -u)"
export LD_PRELOAD="$LIBTSAN"

echo "== canary: a deliberate race must be reported"
# Proves the preloaded runtime is active and that reports land in the logs
# counted below (so "0 reports" means something): two threads square into
# the same `out` at once, an unsynchronized write-write race in gilfree's
# own (instrumented) kernel, which TSAN must report.
mkdir -p "$WORK/canary"; cd "$WORK/canary"
TSAN_OPTIONS="halt_on_error=0:log_path=$WORK/canary/tsan" "$VENV/bin/python" -X gil=0 -c '
import threading, numpy as np, gilfree
x = np.arange(1 << 18, dtype=np.float64); out = np.empty_like(x)
b = threading.Barrier(2)
def w():
    b.wait()
    for _ in range(20):
        gilfree.square(x, out=out, threads=1)
ts = [threading.Thread(target=w) for _ in range(2)]
[t.start() for t in ts]; [t.join() for t in ts]' >/dev/null 2>&1
grep -q "WARNING: ThreadSanitizer: data race" "$WORK"/canary/tsan* 2>/dev/null ||
    die "the TSAN canary was not reported: the runtime is not active"
echo "   reported, as it must be"

export TSAN_OPTIONS="halt_on_error=0:report_signal_unsafe=0:second_deadlock_stack=1:log_path=$LOGS/tsan:suppressions=$SUPP:print_suppressions=0"
export HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-dev}
export PYTHONFAULTHANDLER=1
export GILFREE_SANITIZED=1
# Run 2 (4 threads per test) of the range and sum-of-squares files would
# take about 50 minutes here, so by default it covers the pool's own tests.
PARALLEL=(tests/test_threads.py tests/test_concurrency.py tests/test_freethreading.py)
if [[ $# -eq 0 ]]; then
    set -- tests/test_threads.py tests/test_concurrency.py tests/test_freethreading.py \
        tests/test_range.py tests/test_sum_of_squares.py
else
    PARALLEL=("$@")
fi
run_pytest() { # log extra-args...
    local log=$1; shift
    (cd "$WORK/src" && "$VENV/bin/python" -X gil=0 -c '
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
import pytest
sys.exit(pytest.main(sys.argv[1:]))' -p no:cacheprovider -q -rfEs \
        -c "$WORK/src/pyproject.toml" --rootdir "$WORK/src" "$@") 2>&1 | tee "$log"
    return "${PIPESTATUS[0]}"
}
summary_of() { grep -E "[0-9]+ (passed|failed)" "$1" | tail -1 | sed 's/=//g; s/^ *//; s/ *$//; s/ in [0-9.]*s.*//'; }

echo "== pytest -X gil=0 under TSAN ($*)"
run_pytest "$WORK/pytest1.log" "$@"; rc1=$?
s1=$(summary_of "$WORK/pytest1.log")
rc2=0 s2="skipped"
if [[ -z ${TSAN_SKIP_PARALLEL:-} ]]; then
    echo "== pytest -X gil=0 --parallel-threads=4 under TSAN"
    run_pytest "$WORK/pytest2.log" --parallel-threads=4 "${PARALLEL[@]}"; rc2=$?
    s2="$(summary_of "$WORK/pytest2.log") (--parallel-threads=4)"
fi
unset LD_PRELOAD

reports=$(cat "$LOGS"/* 2>/dev/null | grep -c "WARNING: ThreadSanitizer")
if [[ $reports -gt 0 ]]; then
    echo "== ThreadSanitizer reports (first 3 files)"
    for f in $(ls "$LOGS"/* | head -3); do echo "--- $f"; head -80 "$f"; done
fi
dt=$(( $(date +%s) - T0 ))
if [[ $rc1 -ne 0 || $rc2 -ne 0 || $reports -gt 0 ]]; then
    echo "tsan: FAILED: pytest rc=$rc1/$rc2; ${s1:-no summary}; ${s2:-no summary}; $reports ThreadSanitizer reports (${dt} s)"
    exit 1
fi
echo "tsan: OK: ${s1}; ${s2}; 0 ThreadSanitizer reports (${dt} s)"
