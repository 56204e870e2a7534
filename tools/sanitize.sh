#!/usr/bin/env bash
# Memory-safety check of gilfree's C and Cython code: build the extension with
# AddressSanitizer + UndefinedBehaviorSanitizer and run the whole test suite
# under it.  Fails on any sanitizer report (or any test failure) and ends with
# one summary line:
#
#   sanitize: OK: <N> passed, <M> skipped; 0 sanitizer reports (<T> s)
#
# How:
#   * the source tree (tracked + untracked-not-ignored files, as a clean clone
#     has them) is staged in a scratch folder, so the shared editable install
#     and src/ are never touched;
#   * it is built with GILFREE_SANITIZE=address,undefined and
#     GILFREE_CFLAGS="-fno-sanitize-recover=undefined -g" (every UB report
#     aborts; -g gives file:line in reports) and installed (non-editable) into
#     a throwaway venv: $GILFREE_SANITIZE_VENV, default
#     ~/.cache/gilfree/sanitize-pyX.Y (reused, so the dependencies are not
#     reinstalled each run; the gilfree build itself is always fresh);
#   * the python interpreter is not built with ASan, so the ASan runtime must
#     be the first DSO loaded: LD_PRELOAD=$(gcc -print-file-name=libasan.so);
#   * ASAN_OPTIONS=detect_leaks=0: CPython does not free its interned
#     strings, static types and arena memory at exit (it is not built for
#     LeakSanitizer), so LSan would report thousands of "leaks" that are the
#     interpreter's by design.  gilfree's own leaks are measured instead by
#     tests/test_reliability.py (RSS + tracemalloc over 100,000 calls);
#   * UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1: first UB aborts;
#   * every ASan/UBSan report also goes to log files
#     (ASAN_OPTIONS=log_path=..., UBSAN_OPTIONS=log_path=...), which also
#     catches reports from the many subprocesses the tests start (fork, spawn,
#     Ctrl-C, bench); the script counts "ERROR: AddressSanitizer" and
#     "runtime error:" in them and in the pytest output;
#   * HYPOTHESIS_PROFILE=ci (200 examples per property, derandomized), as in
#     CI.  The full suite runs: nothing is deselected.
#
# Usage: tools/sanitize.sh [pytest args]   default: the whole suite (tests);
#        e.g. tools/sanitize.sh -x tests/test_square.py
# Environment: PYTHON (default python3), GILFREE_SANITIZE_VENV, KEEP=1 (keep scratch)

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-python3}
T0=$(date +%s)
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])') || { echo "sanitize: cannot run $PY" >&2; exit 2; }
VENV=${GILFREE_SANITIZE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/gilfree/sanitize-py$PYVER}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gilfree-sanitize.XXXXXX")
LOGS=$WORK/reports
mkdir -p "$LOGS"
cleanup() { [[ "${KEEP:-0}" == 1 ]] && echo "sanitize: kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT
die() { echo "sanitize: FAILED: $*"; exit 1; }

CC=${CC:-gcc}
LIBASAN=$("$CC" -print-file-name=libasan.so)
[[ -f "$LIBASAN" ]] || die "no ASan runtime ($CC -print-file-name=libasan.so gave '$LIBASAN')"
LIBUBSAN=$("$CC" -print-file-name=libubsan.so)

echo "== venv $VENV"
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PY" -m venv "$VENV" || die "cannot create venv $VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "setuptools>=77" "Cython>=3.1" "numpy>=2" wheel pytest hypothesis pytest-run-parallel "threadpoolctl>=3.2" \
    || die "cannot install build/test dependencies into $VENV"

echo "== stage source tree in $WORK/src"
mkdir -p "$WORK/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$WORK/src" || die "cannot stage the source tree"
# generated files must not come from the working tree
rm -f "$WORK"/src/src/gilfree/*.so "$WORK"/src/src/gilfree/_core.c "$WORK"/src/src/gilfree/_openmp.c \
    "$WORK"/src/src/gilfree/_pfor.c
rm -rf "$WORK/src/build"

echo "== build with GILFREE_SANITIZE=address,undefined"
"$VENV/bin/python" -m pip uninstall -y -q gilfree >/dev/null 2>&1
(cd "$WORK/src" && CC="$CC" GILFREE_SANITIZE=address,undefined \
    GILFREE_CFLAGS="-fno-sanitize-recover=undefined -g" \
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps .) \
    > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; die "build failed"; }
SO=$("$VENV/bin/python" -c 'import gilfree._core as c; print(c.__file__)' 2>/dev/null) ||
    SO=$(LD_PRELOAD="$LIBASAN" ASAN_OPTIONS=detect_leaks=0 "$VENV/bin/python" -c 'import gilfree._core as c; print(c.__file__)')
grep -q libasan < <(ldd "$SO") || die "$SO is not linked against libasan"
echo "   $SO: $(ldd "$SO" | grep -o 'lib[a-z]*san[^ ]*' | sort -u | tr '\n' ' ')"

echo "== canary: an out-of-bounds memmove must be reported"
# Proves the preloaded runtime is active and that reports land in the logs
# this script counts (so "0 reports" below means something).
mkdir -p "$WORK/canary"
LD_PRELOAD="$LIBASAN" ASAN_OPTIONS="detect_leaks=0:log_path=$WORK/canary/asan" "$VENV/bin/python" -c '
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
p = libc.malloc(8)
ctypes.memmove(p, b"0123456789abcdef", 16)' >/dev/null 2>&1
grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" "$WORK"/canary/asan* 2>/dev/null ||
    die "the ASan canary was not reported: the runtime is not active"
echo "   reported, as it must be"

echo "== pytest under ASan+UBSan (HYPOTHESIS_PROFILE=ci)"
# Run in the staged tree: src/ layout, so `import gilfree` finds only the
# sanitized installation in the venv, never src/gilfree.
export LD_PRELOAD="$LIBASAN"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1:log_path=$LOGS/asan:detect_stack_use_after_return=0:allow_user_segv_handler=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOGS/ubsan"
export HYPOTHESIS_PROFILE=ci
export PYTHONFAULTHANDLER=1
export GILFREE_SANITIZED=1
# Arguments replace the default test selection (paths relative to the
# staged tree, e.g. tests/test_square.py -x).
if [[ $# -eq 0 ]]; then set -- tests; fi
# pytest is started through a wrapper that gives SIGINT its default Python
# handler: a shell that runs this script in the background (`cmd &`) passes
# SIGINT down as ignored, and tests/test_interrupt.py's children would then
# never see the Ctrl-C they time.
(cd "$WORK/src" && "$VENV/bin/python" -c '
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
import pytest
sys.exit(pytest.main(sys.argv[1:]))' -p no:cacheprovider -q -rfEs \
    -c "$WORK/src/pyproject.toml" --rootdir "$WORK/src" "$@") 2>&1 | tee "$WORK/pytest.log"
rc=${PIPESTATUS[0]}
unset LD_PRELOAD

reports=$(cat "$LOGS"/* "$WORK/pytest.log" 2>/dev/null | grep -cE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer")
if [[ $reports -gt 0 ]]; then
    echo "== sanitizer reports"
    for f in "$LOGS"/*; do [[ -f "$f" ]] && { echo "--- $f"; head -60 "$f"; }; done
    grep -nE "ERROR: AddressSanitizer|runtime error:" "$WORK/pytest.log" | head -20
fi
summary=$(grep -E "^(=+ )?[0-9]+ (passed|failed)|[0-9]+ passed" "$WORK/pytest.log" | tail -1 | sed 's/=//g; s/^ *//; s/ *$//')
dt=$(( $(date +%s) - T0 ))
if [[ $rc -ne 0 || $reports -gt 0 ]]; then
    echo "sanitize: FAILED: pytest rc=$rc; ${summary:-no pytest summary}; $reports sanitizer reports (${dt} s)"
    exit 1
fi
echo "sanitize: OK: ${summary}; 0 sanitizer reports (${dt} s)"
