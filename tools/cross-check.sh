#!/usr/bin/env bash
# The C core on every wheel target, without Python: cross-compile the kernels
# (every SIMD level the target has, each level a file of its own with its own
# flags, as setup.py builds them), the thread pool and a test driver
# (tools/cross_check_driver.c) with Zig, run what can run on this machine,
# and compare every result with the native build's, bit for bit.
#
#   target                    how it runs here
#   native (host cc)          directly: the reference
#   x86_64-linux-musl         directly (a static binary)
#   aarch64-linux-gnu.2.28    qemu-aarch64 (user mode), Debian's arm64 glibc
#   aarch64-linux-musl        qemu-aarch64 (a static binary)
#   x86_64-windows-gnu        wine
#   aarch64-macos             cannot run here: compiled and linked only
#   x86_64-macos              cannot run here: compiled and linked only
#
# The driver prints one line per case and SIMD level (every dtype, chunk
# edges, 2-D, strided and reversed views, unaligned starts, integer squares
# at the overflow bound, float overflow and specials, range sums with terms
# near -2**63 and 2**63 - 1, and sums through the pool).  Each check below is
# one (target, level) against the native baseline, or one build; the levels
# of x86-64 targets are those this CPU runs.  Also checked: the aarch64
# build's square and sum-of-squares loops are NEON-vectorised (Clang's
# loop-vectorize remarks, and the float block loops' assembly from zig -S).
#
# Ends with one line, "N passed, N failed", and exits 1 on any failure.
#
# Needs (installed when missing, idempotently; apt as root): a C compiler,
# qemu-user, wine64, libc6-arm64-cross (Debian packages), and ziglang from
# PyPI in a venv of its own (GILFREE_CROSS_TOOLS, default
# ~/.cache/gilfree/cross-tools, reused between runs; the wine prefix lives
# there too).  Usage: tools/cross-check.sh   Environment: PYTHON, CC,
# GILFREE_CROSS_TOOLS, KEEP=1 (keep the scratch folder).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-python3}
HOSTCC=${CC:-cc}
TOOLS=${GILFREE_CROSS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/gilfree/cross-tools}
ZIG_PIN="ziglang==0.17.1"
T0=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gilfree-cross.XXXXXX")
cleanup() { [[ "${KEEP:-0}" == 1 ]] && echo "cross-check: kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); printf '  ok    %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf '  FAIL  %s\n' "$*"; }
finish() {
    echo "cross-check: $((SECONDS - T0)) s"
    echo "$PASSED passed, $FAILED failed"
    ((FAILED == 0))
    exit $?
}

# ------------------------------------------------------------------ tools
echo "== tools"
missing=()
command -v "$HOSTCC" >/dev/null 2>&1 || missing+=(gcc)
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
{ command -v wine >/dev/null 2>&1 && [[ -x /usr/lib/wine/wine64 ]]; } || missing+=(wine64 wine)
[[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]] || missing+=(libc6-arm64-cross)
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        echo "   apt-get install ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >"$WORK/apt.log" 2>&1 ||
            { tail -n 20 "$WORK/apt.log"; fail "apt-get install ${missing[*]}"; }
    else
        echo "   missing (install them, or run as root on Debian): ${missing[*]}"
    fi
fi
if [[ ! -x "$TOOLS/bin/python" ]]; then
    "$PY" -m venv "$TOOLS" || { fail "cannot create the tools venv $TOOLS"; finish; }
fi
if ! "$TOOLS/bin/python" -c "import ziglang" 2>/dev/null ||
    [[ "$("$TOOLS/bin/python" -m pip show ziglang 2>/dev/null | sed -n 's/^Version: //p')" != "${ZIG_PIN#*==}" ]]; then
    "$TOOLS/bin/python" -m pip install --disable-pip-version-check -q "$ZIG_PIN" >"$WORK/pip.log" 2>&1 ||
        { tail -n 20 "$WORK/pip.log"; fail "pip install $ZIG_PIN"; finish; }
fi
ZIG=("$TOOLS/bin/python" -m ziglang)
echo "   zig $("${ZIG[@]}" version); host: $("$HOSTCC" --version | head -1);" \
    "$(qemu-aarch64 --version 2>/dev/null | head -1 || echo 'no qemu-aarch64')"; \
    echo "   $(wine --version 2>/dev/null || echo 'no wine')"

# ------------------------------------------------------------------ builds
CFLAGS=(-O3 -ffp-contract=off -fno-strict-aliasing -I"$ROOT/csrc")
SOURCES=(csrc/gf_kernels.c csrc/gf_level_baseline.c csrc/gf_level_avx2.c csrc/gf_level_avx512.c
    csrc/gf_pool.c tools/cross_check_driver.c)
flags_for() { # target source -> the level's flags where the target is x86-64
    [[ $1 == x86_64* || $1 == native ]] || return 0
    case "$2" in
        csrc/gf_level_avx2.c) echo "-mavx2 -mfma" ;;
        csrc/gf_level_avx512.c) echo "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma" ;;
    esac
}
build() { # target exe cc...: each source compiled on its own, then linked
    local target=$1 exe=$2
    shift 2
    local dir="$WORK/$target" objs=() src obj
    mkdir -p "$dir"
    for src in "${SOURCES[@]}"; do
        obj="$dir/$(basename "$src" .c).o"
        # shellcheck disable=SC2046  # the level's flags are words
        "$@" "${CFLAGS[@]}" $(flags_for "$target" "$src") -c "$ROOT/$src" -o "$obj" \
            >>"$dir/build.log" 2>&1 || return 1
        objs+=("$obj")
    done
    local libs=()
    [[ $target == native || $target == *linux* ]] && libs=(-lpthread)
    "$@" "${objs[@]}" -o "$dir/$exe" "${libs[@]}" >>"$dir/build.log" 2>&1
}

echo "== builds (the targets in parallel)"
declare -A EXE
targets=(native x86_64-linux-musl aarch64-linux-gnu.2.28 aarch64-linux-musl x86_64-windows-gnu
    aarch64-macos x86_64-macos)
exe_of() { [[ $1 == *windows* ]] && echo cross_check_driver.exe || echo cross_check_driver; }
for t in "${targets[@]}"; do
    mkdir -p "$WORK/$t"
    if [[ $t == native ]]; then
        (build native "$(exe_of "$t")" "$HOSTCC"; echo $? >"$WORK/$t/rc") &
    else
        (build "$t" "$(exe_of "$t")" "${ZIG[@]}" cc -target "$t"; echo $? >"$WORK/$t/rc") &
    fi
done
wait
for t in "${targets[@]}"; do
    if [[ "$(cat "$WORK/$t/rc" 2>/dev/null)" == 0 ]]; then
        EXE[$t]="$WORK/$t/$(exe_of "$t")"
        pass "$t: the kernels (every level), the pool and the driver compile and link"
    else
        tail -n 15 "$WORK/$t/build.log"
        fail "$t: build"
    fi
done

# ------------------------------------------------------------------ runs
compare() { # target output-file: every level against the native baseline
    "$PY" - "$WORK/native.out" "$2" "$1" <<'EOF'
import sys
ref_path, out_path, target = sys.argv[1:]
def load(path):
    levels = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        level, case, result = line.rstrip("\r\n").split(" ", 2)
        levels.setdefault(level, {})[case] = result
    return levels
ref, got = load(ref_path), load(out_path)
want = dict(ref["baseline"], **{k: v for k, v in ref["all"].items()})
ok = True
for level in sorted(got, key=lambda s: (s != "all", s)):
    have = dict(got[level], **(got["all"] if level != "all" else {}))
    cases = {k: v for k, v in want.items() if level != "all" or k in ref["all"]}
    bad = [k for k in cases if have.get(k) != cases[k]]
    bad += [k for k in have if k not in cases]
    name = "chunk plans" if level == "all" else f"level {level}"
    if bad:
        ok = False
        print(f"FAIL {target}: {name}: {len(bad)} of {len(cases)} cases differ from the native baseline")
        for k in bad[:5]:
            print(f"       {k}: {have.get(k)} (native: {cases.get(k)})")
    else:
        print(f"ok {target}: {name}: {len(cases)} cases, bit for bit as the native baseline")
sys.exit(0 if ok else 1)
EOF
}
report() { # the compare lines into pass/fail
    local line
    while IFS= read -r line; do
        case "$line" in
            ok\ *) pass "${line#ok }" ;;
            FAIL\ *) fail "${line#FAIL }" ;;
            *) echo "$line" ;;
        esac
    done
}

echo "== runs"
if [[ -z "${EXE[native]:-}" ]]; then
    fail "native: no reference build"
    finish
fi
if "${EXE[native]}" >"$WORK/native.out" 2>"$WORK/native.err"; then
    echo "   native: $(cat "$WORK/native.err")"
    # the native levels must agree among themselves
    report < <(compare native "$WORK/native.out")
else
    fail "native: the driver failed: $(tail -n 3 "$WORK/native.err")"
    finish
fi

run_target() { # target how cmd...
    local t=$1 how=$2
    shift 2
    [[ -n "${EXE[$t]:-}" ]] || return 0
    if "$@" >"$WORK/$t.out" 2>"$WORK/$t.err"; then
        echo "   $t ($how): $(tr -d '\r' <"$WORK/$t.err" | grep cross_check_driver | tail -1)"
        report < <(compare "$t" "$WORK/$t.out")
    else
        tail -n 5 "$WORK/$t.err"
        fail "$t ($how): the driver did not run to the end"
    fi
}
run_target x86_64-linux-musl "natively" "${EXE[x86_64-linux-musl]:-}"
if command -v qemu-aarch64 >/dev/null; then
    run_target aarch64-linux-gnu.2.28 "qemu-aarch64" \
        qemu-aarch64 -L /usr/aarch64-linux-gnu "${EXE[aarch64-linux-gnu.2.28]:-}"
    run_target aarch64-linux-musl "qemu-aarch64" qemu-aarch64 "${EXE[aarch64-linux-musl]:-}"
else
    fail "aarch64: no qemu-aarch64 to run it"
fi
if command -v wine >/dev/null; then
    export WINEPREFIX="$TOOLS/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
    mkdir -p "$WINEPREFIX"
    run_target x86_64-windows-gnu "wine" wine "${EXE[x86_64-windows-gnu]:-}"
else
    fail "x86_64-windows-gnu: no wine to run it"
fi
for t in aarch64-macos x86_64-macos; do
    echo "   $t: cannot run here (no macOS): compiled and linked only"
done

# ------------------------------------------------- aarch64: NEON loops
echo "== aarch64: the square and sum-of-squares loops use NEON"
A64=(-target aarch64-linux-gnu.2.28 "${CFLAGS[@]}")
IMPL="$ROOT/csrc/gf_kernels_impl.h"
# A cache of its own: Zig reuses a cached object without running Clang, and
# so without its remarks.
if ZIG_GLOBAL_CACHE_DIR="$WORK/zig-cache" ZIG_LOCAL_CACHE_DIR="$WORK/zig-cache" \
    "${ZIG[@]}" cc "${A64[@]}" -Rpass=loop-vectorize -c "$ROOT/csrc/gf_level_baseline.c" \
    -o "$WORK/a64.o" 2>"$WORK/a64.remarks" &&
    "${ZIG[@]}" cc "${A64[@]}" -S "$ROOT/csrc/gf_level_baseline.c" -o "$WORK/a64.s" 2>/dev/null; then
    vectorized() { # line -> 0 when Clang vectorized a loop at gf_kernels_impl.h:line
        grep -q "gf_kernels_impl.h:$1:[0-9]*: remark: vectorized loop" "$WORK/a64.remarks"
    }
    neon_ok=1 checked=()
    while IFS=: read -r line text; do
        what=$(sed -E 's/^(GF_DEF_[A-Z_]+)\(([a-z0-9_]+),.*/\1 \2/' <<<"$text")
        checked+=("${what#GF_DEF_}")
        vectorized "$line" || { neon_ok=0; fail "aarch64: not vectorised: $what (gf_kernels_impl.h:$line)"; }
    done < <(grep -nE '^GF_DEF_(SQUARE_INT|SQUARE_FLT|SUMSQ_SMALL|SUMSQ_MID)\(' "$IMPL")
    # the 64-bit sum of squares' narrow blocks (ssq_narrow's portable loop)
    line=$(grep -n 'for (i = 0; i < n; i += 4)$' "$IMPL" | head -1 | cut -d: -f1)
    checked+=("ssq_narrow (int64/uint64 sums)")
    vectorized "$line" || { neon_ok=0; fail "aarch64: not vectorised: ssq_narrow (gf_kernels_impl.h:$line)"; }
    # the float sums' block loops are written in vectors: NEON double lanes
    for insn in 'fmul\tv[0-9]+\.2d' 'fadd\tv[0-9]+\.2d' 'fcvtl2?\tv[0-9]+\.2d'; do
        grep -qP "$insn" "$WORK/a64.s" || { neon_ok=0; fail "aarch64: no ${insn//\\t/ } in the float block loops"; }
    done
    checked+=("float64/float32 block loops (fmul/fadd/fcvtl on .2d)")
    ((neon_ok)) && pass "aarch64: NEON in every loop checked: ${checked[*]}"
else
    tail -n 10 "$WORK/a64.remarks"
    fail "aarch64: cannot compile the baseline level for the NEON check"
fi

finish
