#!/usr/bin/env bash
# tools/ft-check.sh -- build gilfree on a free-threaded CPython 3.13t and run
# the test suite there with the GIL off, twice:
#
#   1. python -X gil=0 -m pytest tests                       (the plain suite)
#   2. python -X gil=0 -m pytest --parallel-threads=4 tests  (pytest-run-parallel:
#      every test not marked thread_unsafe runs in 4 threads at once)
#
# The interpreter and a venv with numpy/Cython/pytest come from
# tools/get-pythons.sh (cached in ${GILFREE_PYTHONS:-~/.cache/gilfree-pythons},
# outside the clone; the first run builds CPython, ~4-5 min on 2 cores).
# gilfree is built from a scratch copy of this checkout (no build/ or .c files
# are written into the clone, and an editable install elsewhere is untouched)
# and installed into that venv with `pip install --no-build-isolation`.
# Tests run from a scratch folder, so only the installed gilfree is imported.
#
# Options (environment):
#   FT_PYTEST_ARGS   extra pytest arguments for both runs, e.g. "-m 'not slow'"
#   FT_SKIP_PARALLEL=1   skip run 2
#   HYPOTHESIS_PROFILE   dev (default) or ci
#
# Timing measured on the shared 2-core development machine (load 3-9 from
# other jobs), with 3.13t already cached: gilfree build+install 92-96 s, run 1
# 107-138 s, run 2 213-292 s; 7 to 9 minutes in all.  The first run adds the CPython build
# (4 to 13 minutes).  Too slow for .ci/run's 25-minute budget together with
# the rest of CI, so it is a separate script.  Exit status: non-zero if any
# step fails.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
log() { printf '[ft-check] %s\n' "$*" >&2; }

t_start=$SECONDS
paths=$("$HERE/get-pythons.sh")
VPY=$(printf '%s\n' "$paths" | sed -n 's/^3\.13t-venv: //p')
[[ -x $VPY ]] || { log "get-pythons.sh gave no 3.13t venv"; exit 1; }
log "interpreter: $VPY ($("$VPY" -VV | head -n1))"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gilfree-ft.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ------------------------------------------------------------ build+install
t0=$SECONDS
mkdir -p "$WORK/src"
# A clean copy: sources only, no compiled modules or generated C of the host.
tar -C "$REPO" -cf - --exclude='*.so' --exclude='*.pyd' --exclude='src/gilfree/*.c' \
    --exclude='__pycache__' --exclude='*.egg-info' --exclude=build \
    pyproject.toml setup.py MANIFEST.in README.md LICENSE csrc src \
    | tar -C "$WORK/src" -xf -
"$VPY" -m pip uninstall -q -y gilfree >/dev/null 2>&1 || true
"$VPY" -m pip install -q --no-build-isolation "$WORK/src" >&2
log "built and installed in $((SECONDS - t0)) s"

cd "$WORK"
"$VPY" -X gil=0 -W error -c '
import sys, sysconfig
assert sysconfig.get_config_var("Py_GIL_DISABLED"), "not a free-threaded build"
import gilfree, gilfree._core, gilfree._pfor
try:
    import gilfree._openmp
except ImportError:
    pass
assert not sys._is_gil_enabled(), "importing gilfree turned the GIL on"
gilfree.show_config()
'

# ------------------------------------------------------------------ tests
status=0
read -r -a extra <<< "${FT_PYTEST_ARGS:-}"
t0=$SECONDS
log "run 1: pytest with the GIL off"
"$VPY" -X gil=0 -m pytest "$REPO/tests" -q -p no:cacheprovider "${extra[@]}" || status=1
log "run 1 took $((SECONDS - t0)) s"
if [[ -z ${FT_SKIP_PARALLEL:-} ]]; then
    t0=$SECONDS
    log "run 2: pytest --parallel-threads=4 with the GIL off"
    "$VPY" -X gil=0 -m pytest "$REPO/tests" -q -p no:cacheprovider --parallel-threads=4 "${extra[@]}" \
        || status=1
    log "run 2 took $((SECONDS - t0)) s"
fi
log "total $((SECONDS - t_start)) s, status $status"
exit $status
