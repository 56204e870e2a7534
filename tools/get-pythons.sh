#!/usr/bin/env bash
# tools/get-pythons.sh -- provide the interpreters that "Beyond the GIL"
# (docs/freethreading.md) tests and benchmarks against:
#
#   3.13t   CPython 3.13, free-threaded build (PEP 703, ./configure --disable-gil)
#           installed at  $CACHE/cpython-3.13t/bin/python3.13t
#   3.13t venv with the test/bench tools (numpy, Cython, pytest, ...) at
#           $CACHE/venv-3.13t/bin/python   (tools/ft-check.sh builds gilfree there)
#
# Usage:   tools/get-pythons.sh            # build what is missing, print paths
#          GILFREE_PYTHONS=/some/dir tools/get-pythons.sh
# Cache:   ${GILFREE_PYTHONS:-$HOME/.cache/gilfree-pythons}, outside the clone,
#          so later runs (and other clones on the same machine) reuse it.
# Idempotent: each step is skipped when its result is already in the cache; a
#          second run downloads and builds nothing and only prints the paths.
#          Delete a folder in the cache to redo that step.
#
# Where the source comes from (Debian 12 has no free-threaded CPython and PyPI
# has no binary CPython): Debian's *source* package of python3.13 from the
# trixie/sid suites, fetched with `apt-get source --download-only` under a
# private APT_CONFIG kept in $CACHE/apt.  Its sources.list holds only deb-src
# lines for trixie and sid, on the same archive host as this machine's own apt
# sources (found in /etc/apt/sources.list*; override with GILFREE_DEBIAN_MIRROR).
# The system's apt sources, preferences and lists are not touched, and nothing
# is installed system-wide.  Only the upstream tarball (*.orig.tar.xz) of the
# source package is used -- Debian's patches change the install layout
# (dist-packages, multiarch) in ways a --prefix build does not want.  Some
# listed versions answer 404, so the versions are tried newest first until one
# downloads.  Build: ./configure --disable-gil --disable-test-modules
# --prefix=$CACHE/cpython-3.13t && make -j$(nproc) && make install
# (about 4 minutes on an idle 2-core machine; 12.6 minutes measured on a shared
# one at load 3-9; 270 MB installed, ~500 MB of source and build tree kept in
# $CACHE/src, which may be deleted).  The venv step takes ~30 s.
#
# Build dependencies (Debian package names; most machines with a C toolchain
# have them): build-essential libssl-dev zlib1g-dev libffi-dev libbz2-dev
# liblzma-dev libsqlite3-dev libreadline-dev libncurses-dev uuid-dev.
#
# Subinterpreters -- the choice made here: NOT provided by this script.
#   * CPython 3.14 (concurrent.futures.InterpreterPoolExecutor, PEP 734) is
#     not packaged for Debian 12; unpacking Debian sid's binary packages plus
#     the sid libc/OpenSSL they need and patchelf-ing them works but is fragile
#     (it breaks whenever sid moves), so it is left out of a script others
#     must be able to rerun.
#   * The PyPI backport `interpreters-pep-734` (for 3.13) is installed into the
#     3.13t venv when pip can get it (GILFREE_SKIP_BACKPORT=1 skips it); see
#     docs/freethreading.md for what it provides and what was tested with it.
#     It is pure Python on top of 3.13's private _interpreters/_interpqueues
#     modules and provides interpreters_backport.interpreters (PEP 734) and
#     interpreters_backport.concurrent.futures.InterpreterPoolExecutor; checked
#     to give correct results on this 3.13t (gilfree's bench only looks for
#     concurrent.futures.InterpreterPoolExecutor on 3.14+ so far).
#   * GILFREE_WITH_314=1 builds a standard 3.14 from Debian's python3.14 source
#     package the same way, into $CACHE/cpython-3.14 (opt-in).  UNTESTED: when
#     this script was written both listed versions (3.14.10-1, 3.14.9-1) answered
#     404 on the archive, so the step fails with "no version ... downloaded".
set -euo pipefail

CACHE=${GILFREE_PYTHONS:-${HOME:-/root}/.cache/gilfree-pythons}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
log() { printf '[get-pythons] %s\n' "$*" >&2; }

# ------------------------------------------------------------- private apt
mirror() {
    if [[ -n ${GILFREE_DEBIAN_MIRROR:-} ]]; then echo "$GILFREE_DEBIAN_MIRROR"; return; fi
    local m
    # deb822 (URIs: ...) or one-line (deb URL suite ...) sources; first Debian
    # archive host wins (not -security, not third-party repositories).
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
            /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | sed -nE 's/^URIs:[[:space:]]*(\S+).*/\1/p; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?(\S+).*/\2/p' \
        | grep -E '/debian/?$' | grep -v security | head -n1 || true)
    echo "${m:-http://deb.debian.org/debian}"
}

setup_apt() {
    local r="$CACHE/apt" m
    m=$(mirror)
    mkdir -p "$r/lists/partial" "$r/cache/archives/partial" "$r/state" \
             "$r/etc/sources.list.d" "$r/etc/preferences.d"
    local key=/usr/share/keyrings/debian-archive-keyring.gpg
    cat > "$r/etc/sources.list" <<EOF
deb-src [signed-by=$key] $m trixie main
deb-src [signed-by=$key] $m sid main
EOF
    cat > "$r/apt.conf" <<EOF
Dir::Etc::sourcelist "$r/etc/sources.list";
Dir::Etc::sourceparts "$r/etc/sources.list.d";
Dir::Etc::preferences "$r/etc/preferences";
Dir::Etc::preferencesparts "$r/etc/preferences.d";
Dir::State "$r/state";
Dir::State::lists "$r/lists";
Dir::State::status "/var/lib/dpkg/status";
Dir::Cache "$r/cache";
APT::Sandbox::User "root";
EOF
    export APT_CONFIG="$r/apt.conf"
    if ! compgen -G "$r/lists/*Sources*" >/dev/null; then
        log "apt-get update (private lists, deb-src trixie+sid from $m)"
        apt-get -q update >&2
    fi
}

# fetch_source PKG -> prints the folder holding the unpacked upstream source
fetch_source() {
    local pkg=$1 v orig
    local dl="$CACHE/src/$pkg"
    mkdir -p "$dl"
    orig=$(compgen -G "$dl/*.orig.tar.*" | head -n1 || true)
    if [[ -z $orig ]]; then
        setup_apt
        for v in $(apt-cache showsrc "$pkg" | sed -n 's/^Version: //p' | sort -rV | uniq); do
            log "trying $pkg=$v"
            if (cd "$dl" && apt-get -q source --download-only "$pkg=$v" >&2); then
                break
            fi
            rm -f "$dl"/*
        done
        orig=$(compgen -G "$dl/*.orig.tar.*" | head -n1 || true)
        [[ -n $orig ]] || { log "no version of $pkg could be downloaded"; exit 1; }
    fi
    local conf
    conf=$(compgen -G "$dl/*/configure" | head -n1 || true)
    if [[ -z $conf ]]; then
        tar xf "$orig" -C "$dl"
        conf=$(compgen -G "$dl/*/configure" | head -n1 || true)
        [[ -n $conf ]] || { log "no configure script in $orig"; exit 1; }
    fi
    dirname "$conf"
}

# build_cpython PKG PREFIX CONFIGURE-ARGS...
build_cpython() {
    local pkg=$1 prefix=$2; shift 2
    local src
    src=$(fetch_source "$pkg")
    log "building $(basename "$src") into $prefix ($*), $JOBS jobs"
    local t0=$SECONDS
    (
        cd "$src"
        [[ -f Makefile ]] && make distclean >/dev/null 2>&1 || true
        ./configure --prefix="$prefix" --disable-test-modules "$@" >"$CACHE/build-$pkg.log" 2>&1
        make -j"$JOBS" >>"$CACHE/build-$pkg.log" 2>&1
        make install >>"$CACHE/build-$pkg.log" 2>&1
    ) || { log "build failed, see $CACHE/build-$pkg.log"; rm -rf "$prefix"; exit 1; }
    log "built in $((SECONDS - t0)) s (log: $CACHE/build-$pkg.log)"
}

# ------------------------------------------------------------------ 3.13t
PY313T="$CACHE/cpython-3.13t/bin/python3.13t"
if ! "$PY313T" -c 'import sys, sysconfig; assert sysconfig.get_config_var("Py_GIL_DISABLED")' 2>/dev/null; then
    rm -rf "$CACHE/cpython-3.13t"
    build_cpython python3.13 "$CACHE/cpython-3.13t" --disable-gil
fi

# ---------------------------------------------------- 3.13t tools venv
VENV="$CACHE/venv-3.13t"
if [[ ! -f "$VENV/.complete" ]]; then
    rm -rf "$VENV"
    "$PY313T" -m venv "$VENV"
    log "installing numpy (binary cp313t wheel), Cython and the test tools into $VENV"
    # Without --only-binary pip picks a numpy release with no cp313t wheel and
    # compiles it (~8 minutes).
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    # --only-binary everywhere: some hypothesis releases come as an sdist
    # that needs a Rust toolchain and crates.io.
    "$VENV/bin/python" -m pip install -q --only-binary=:all: "numpy<2.5" \
        "Cython>=3.1" "setuptools>=77" wheel pytest hypothesis "pytest-run-parallel>=0.7" >&2
    if [[ -z ${GILFREE_SKIP_BACKPORT:-} ]]; then
        "$VENV/bin/python" -m pip install -q --only-binary=:all: interpreters-pep-734 >&2 \
            || log "interpreters-pep-734 not installed (optional)"
    fi
    touch "$VENV/.complete"
fi

# ------------------------------------------------------ 3.14 (opt-in)
PY314="$CACHE/cpython-3.14/bin/python3.14"
if [[ -n ${GILFREE_WITH_314:-} ]] && ! "$PY314" -c 'import concurrent.futures as f; f.InterpreterPoolExecutor' 2>/dev/null; then
    rm -rf "$CACHE/cpython-3.14"
    build_cpython python3.14 "$CACHE/cpython-3.14"
fi

# ------------------------------------------------------------ report
"$PY313T" -c 'import sys; assert not sys._is_gil_enabled(), "GIL is on in 3.13t"'
echo "3.13t: $PY313T"
echo "3.13t-venv: $VENV/bin/python"
if [[ -x $PY314 ]]; then echo "3.14: $PY314"; fi
