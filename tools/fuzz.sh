#!/usr/bin/env bash
# Coverage-guided fuzzing of gilfree's plain-C core (csrc/) with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer.  Four targets in fuzz/
# (docs/reliability-tools.md says what each one checks):
#
#   fuzz_range    GF_OP_RANGE_SUMSQ / GF_OP_RANGE_FILL vs exact references
#   fuzz_plan     gf_plan_chunks invariants over the whole int64 domain
#   fuzz_square   GF_OP_SQUARE, every dtype and layout, overflow flag
#   fuzz_sumsq    GF_OP_SUMSQ + gf_combine_*, exact ints, bounded float error
#
# every one on every SIMD level the CPU runs, the levels compared bit for bit.
#
# How:
#   * each target is built in a scratch folder with clang
#     -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all (every
#     UB report aborts) and the package's float flags (-ffp-contract=off:
#     without it the levels could differ by FMA contraction);
#   * each runs for FUZZ_SECONDS / 4 seconds (default FUZZ_SECONDS=60),
#     starting from a copy of fuzz/corpus/<target>/ (the repository's seed
#     corpus is never modified);
#   * then every input of that run's corpus is replayed through the same
#     harness built with GCC at the package's -O3 flags plus ASan+UBSan,
#     since the shipped extension is built with GCC, not Clang;
#   * a finding (a failed check, a sanitizer report, a crash, a >25 s input)
#     is saved in the scratch folder, printed, and makes the script exit 1.
#
# Output ends with one summary line:
#   fuzz: OK: 4 targets, <N> executions in <T> s, <R> corpus inputs replayed under gcc -O3; 0 findings
#
# Usage:   tools/fuzz.sh                  # all targets, ~60 s in total
#          FUZZ_SECONDS=600 tools/fuzz.sh # longer
#          FUZZ_TARGETS="fuzz_range fuzz_plan" tools/fuzz.sh
# Environment: CLANG (default clang), GCC (default gcc), FUZZ_SECONDS,
#          FUZZ_TARGETS, FUZZ_KEEP=1 (keep the scratch folder),
#          FUZZ_MERGE=1 (merge the new corpus into fuzz/corpus/, minimized).
# Needs:   clang with its runtime (Debian: apt-get install clang libclang-rt-14-dev).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLANG=${CLANG:-clang}
GCC=${GCC:-gcc}
SECONDS_TOTAL=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-fuzz_range fuzz_plan fuzz_square fuzz_sumsq}
T0=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gilfree-fuzz.XXXXXX")
cleanup() { [[ "${FUZZ_KEEP:-0}" == 1 ]] && echo "fuzz: kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT
die() { echo "fuzz: FAILED: $*"; exit 1; }

ntargets=$(wc -w <<<"$TARGETS")
per=$(( SECONDS_TOTAL / ntargets )); (( per >= 1 )) || per=1
FLAGS=(-g -ffp-contract=off -fno-strict-aliasing -I"$ROOT/csrc" -I"$ROOT/fuzz")
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export GF_FUZZ_QUIET=1

echo "== build ($("$CLANG" --version | head -1); $("$GCC" --version | head -1))"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$WORK/probe.c"
"$CLANG" -fsanitize=fuzzer "$WORK/probe.c" -o "$WORK/probe" 2>"$WORK/probe.log" ||
    die "$CLANG cannot link libFuzzer ($(head -1 "$WORK/probe.log")); install clang and libclang-rt-14-dev"
# The kernels are compiled once per compiler (the slow part: three SIMD
# levels, each a file of its own with its own flags, as setup.py builds
# them), each target and its GCC replay twin in parallel after that.
build() { # log cmd...
    local log=$1; shift
    "$@" 2>"$log" || { cat "$log"; return 1; }
}
KERNELS=(gf_kernels gf_level_baseline gf_level_avx2 gf_level_avx512)
level_flags() { # the flags setup.py gives each kernel file on x86-64
    case "$1" in
        gf_level_avx2) echo "-mavx2 -mfma" ;;
        gf_level_avx512) echo "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma" ;;
    esac
}
for k in "${KERNELS[@]}"; do
    # shellcheck disable=SC2046  # the level's flags are words
    build "$WORK/$k.clang.log" "$CLANG" -O2 "${FLAGS[@]}" "${SAN[@]}" -fsanitize=fuzzer-no-link \
        $(level_flags "$k") -c "$ROOT/csrc/$k.c" -o "$WORK/$k.clang.o" &
    # shellcheck disable=SC2046
    build "$WORK/$k.gcc.log" "$GCC" -O3 "${FLAGS[@]}" "${SAN[@]}" \
        $(level_flags "$k") -c "$ROOT/csrc/$k.c" -o "$WORK/$k.gcc.o" &
    wait %1 || die "clang build of csrc/$k.c"
    wait %2 || die "gcc build of csrc/$k.c"
done
KOBJ_CLANG=() KOBJ_GCC=()
for k in "${KERNELS[@]}"; do KOBJ_CLANG+=("$WORK/$k.clang.o"); KOBJ_GCC+=("$WORK/$k.gcc.o"); done
for t in $TARGETS; do
    [[ -f "$ROOT/fuzz/$t.c" ]] || die "no fuzz/$t.c"
    build "$WORK/$t.build.log" "$CLANG" -O2 "${FLAGS[@]}" "${SAN[@]}" -fsanitize=fuzzer \
        "$ROOT/fuzz/$t.c" "${KOBJ_CLANG[@]}" -o "$WORK/$t" &
    build "$WORK/$t.gcc.log" "$GCC" -O3 "${FLAGS[@]}" "${SAN[@]}" \
        "$ROOT/fuzz/$t.c" "$ROOT/fuzz/replay_main.c" "${KOBJ_GCC[@]}" -o "$WORK/$t.gcc" &
    wait %1 || die "clang build of $t"
    wait %2 || die "gcc build of $t"
done
echo "   built in $(( $(date +%s) - T0 )) s; SIMD levels compared:" \
    "$(env -u GF_FUZZ_QUIET "$WORK/${TARGETS%% *}" -runs=0 2>&1 | sed -n 's/.*compared: //p')"

execs_total=0 replayed=0 findings=0
report=()
for t in $TARGETS; do
    mkdir -p "$WORK/corpus/$t" "$WORK/artifacts/$t"
    seeds="$ROOT/fuzz/corpus/$t"
    [[ -d "$seeds" ]] && cp -r "$seeds/." "$WORK/corpus/$t/" 2>/dev/null
    echo "== $t: ${per} s"
    (cd "$WORK" && "./$t" -max_total_time="$per" -timeout=25 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$WORK/artifacts/$t/" "$WORK/corpus/$t") >"$WORK/$t.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t.log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$WORK/$t.log" | tail -1)
    ncorp=$(find "$WORK/corpus/$t" -type f | wc -l)
    execs_total=$(( execs_total + ${execs:-0} ))
    if [[ $rc -ne 0 ]] || compgen -G "$WORK/artifacts/$t/*" >/dev/null; then
        findings=$(( findings + 1 ))
        report+=("$t")
        echo "   FINDING (rc=$rc):"
        grep -E "runtime error|ERROR: |gf_fuzz: check failed|SUMMARY" "$WORK/$t.log" | head -8 | sed 's/^/     /'
        for a in "$WORK/artifacts/$t"/*; do
            [[ -f $a ]] && echo "     reproducer: $a ($(base64 -w0 "$a" | head -c 200))"
        done
        continue
    fi
    echo "   ${execs:-?} executions, ${cov:-no coverage line}, corpus $ncorp inputs"
    # GCC -O3 replay of everything this run kept
    if ! "$WORK/$t.gcc" "$WORK/corpus/$t" >"$WORK/$t.gcc.run.log" 2>&1; then
        findings=$(( findings + 1 ))
        report+=("$t(gcc replay)")
        echo "   FINDING in the gcc -O3 replay:"
        grep -E "runtime error|ERROR: |gf_fuzz: check failed|SUMMARY" "$WORK/$t.gcc.run.log" | head -8 | sed 's/^/     /'
        continue
    fi
    n=$(sed -n 's/^replayed \([0-9]*\) inputs/\1/p' "$WORK/$t.gcc.run.log")
    replayed=$(( replayed + ${n:-0} ))
    echo "   gcc -O3 replay: ${n:-?} inputs, clean"
    if [[ "${FUZZ_MERGE:-0}" == 1 ]]; then
        mkdir -p "$seeds"
        (cd "$WORK" && "./$t" -merge=1 "$seeds" "$WORK/corpus/$t") >"$WORK/$t.merge.log" 2>&1 ||
            echo "   (merge into $seeds failed, see $WORK/$t.merge.log)"
    fi
done

dt=$(( $(date +%s) - T0 ))
if (( findings > 0 )); then
    FUZZ_KEEP=1
    echo "fuzz: FAILED: $findings finding(s) in ${report[*]}; $execs_total executions in ${dt} s (reproducers kept in $WORK/artifacts)"
    exit 1
fi
echo "fuzz: OK: $ntargets targets, $execs_total executions in ${dt} s, $replayed corpus inputs replayed under gcc -O3; 0 findings"
