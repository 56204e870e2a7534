#!/usr/bin/env bash
# tools/subinterp-check.sh -- `import gilfree` inside subinterpreters that have
# their own GIL (PEP 684/734), on a standard (GIL) CPython 3.13.
#
# The suite's own interpreter may be older (3.11 here), where subinterpreters
# cannot have their own GIL and tests/test_buffer.py skips those tests.  This
# script finds a CPython 3.13 (GILFREE_PY313, else pyenv's newest 3.13, else
# python3.13 on PATH), makes a venv for it in the cache folder outside the
# clone (${GILFREE_PYTHONS:-~/.cache/gilfree-pythons}/venv-3.13, reused),
# builds gilfree there from a scratch copy of this checkout, and runs
# tests/test_buffer.py and the bench's script worker (whose subinterpreters
# row runs there), failing unless the subinterpreter tests really ran.
# `gilfree bench --python .../venv-3.13/bin/python` then measures the
# `subinterpreters` row on that interpreter (perf/record.sh does).
#
# About 2 minutes on 2 cores the first time (venv and build), ~1.5 later.
# Exit status 0 when it passed, or when no CPython 3.13 exists here (it says
# so); 1 on failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${GILFREE_PYTHONS:-$HOME/.cache/gilfree-pythons}
log() { printf '[subinterp-check] %s\n' "$*" >&2; }

py=${GILFREE_PY313:-}
if [[ -z $py ]]; then
    for cand in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13.* 2>/dev/null | sort -V -r); do
        [[ $cand == *t ]] && continue  # a free-threaded build
        if [[ -x $cand/bin/python3.13 ]]; then py=$cand/bin/python3.13; break; fi
    done
fi
[[ -z $py ]] && py=$(command -v python3.13 || true)
if [[ -z $py ]] || ! "$py" -c 'import _interpreters, sysconfig, sys; sys.exit(bool(sysconfig.get_config_var("Py_GIL_DISABLED")))' 2>/dev/null; then
    log "no standard CPython 3.13 here (set GILFREE_PY313): skipped"
    exit 0
fi
log "interpreter: $py ($("$py" -V))"

VENV="$CACHE/venv-3.13"
if [[ ! -f "$VENV/.complete" ]]; then
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --only-binary=:all: "numpy>=2" "Cython>=3.1" \
        "setuptools>=77" wheel pytest hypothesis >&2
    touch "$VENV/.complete"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gilfree-subinterp.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/src"
tar -C "$REPO" -cf - --exclude='*.so' --exclude='*.pyd' --exclude='src/gilfree/*.c' \
    --exclude='__pycache__' --exclude='*.egg-info' --exclude=build \
    pyproject.toml setup.py MANIFEST.in README.md LICENSE csrc src \
    | tar -C "$WORK/src" -xf -
t0=$SECONDS
"$VENV/bin/python" -m pip uninstall -q -y gilfree >/dev/null 2>&1 || true
"$VENV/bin/python" -m pip install -q --no-build-isolation "$WORK/src" >&2
log "built and installed in $((SECONDS - t0)) s"

cd "$WORK"
out=$("$VENV/bin/python" -m pytest "$REPO/tests/test_buffer.py" \
    "$REPO/tests/test_interpreters.py::test_portable_script_runs_threads_processes_and_verifies" \
    -q -p no:cacheprovider -rs 2>&1) \
    || { printf '%s\n' "$out"; log "FAILED"; exit 1; }
printf '%s\n' "$out" | tail -n 3
if printf '%s\n' "$out" | grep -q "SKIPPED"; then
    log "FAILED: the subinterpreter tests were skipped on $py"
    exit 1
fi
log "passed: gilfree imports and computes in subinterpreters with their own GIL"
