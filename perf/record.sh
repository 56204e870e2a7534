#!/usr/bin/env bash
# Re-record every figure the documentation quotes, on a quiet machine (nothing else
# busy: the figures are only as good as the machine's idleness).  Writes a new
# folder perf/results/DATE-MACHINE/ (UTC date, CPU model and count, e.g.
# perf/results/2026-11-27-epyc-2vcpu/) with a README.md that gives the
# machine, the versions and the command behind each file.  About 15-20
# minutes on 2 cores.
#
#   bash perf/record.sh [FREE_THREADED_PYTHON]
#
# FREE_THREADED_PYTHON defaults to the 3.13t that tools/get-pythons.sh builds;
# rows for it, Jython and PyPy are added when they are installed.  OUT=DIR
# records into DIR instead (it must be named DATE-MACHINE too).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$(python3 perf/run_recorded.py --print-folder)} || exit 2
mkdir -p "$OUT"
echo "recording into $OUT"
FT=${1:-${GILFREE_PYTHONS:-/root/.cache/gilfree-pythons}/venv-3.13t/bin/python}
step() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }
# note FILES COMMAND: add COMMAND (as run, from the repository root) for the
# comma-separated FILES to $OUT/README.md
note() { python3 perf/run_recorded.py --note "$OUT" "$1" -- "$2" || ok=1; }
ok=0

step "1. the bench, quick preset (with Dask rows when Dask is installed) + ceiling.py"
python3 perf/run_recorded.py --mode quick --out "$OUT" || ok=1  # notes its own files

step "2. the performance goals (perf/goals.py)"
python3 perf/goals.py --json "$OUT/perf_goals.json" | tee "$OUT/perf_goals.txt" || true
note perf_goals.json,perf_goals.txt \
    "python3 perf/goals.py --json $OUT/perf_goals.json | tee $OUT/perf_goals.txt"

step "3. the seed's escape routes: other interpreters on the range loop"
PY313=${GILFREE_PYTHONS:-/root/.cache/gilfree-pythons}/venv-3.13/bin/python  # tools/subinterp-check.sh
pythons=()
[[ -x "$FT" ]] && pythons+=(--python "$FT")
[[ -x "$PY313" ]] && pythons+=(--python "$PY313")  # subinterpreters with their own GIL
for p in jython pypy3 ipy; do pythons+=(--python "$p"); done
args=(--strategies python,python-threads,python-processes,gilfree,ceiling
      --workloads range --sizes 1e7 --workers 2 --repeats 7 --max-call 10 --heartbeat 0
      "${pythons[@]}" --json "$OUT/interpreters.json" --plain --no-progress)
OPENBLAS_NUM_THREADS=1 python3 -m gilfree bench "${args[@]}" | tee "$OUT/interpreters.txt" || ok=1
note interpreters.json,interpreters.txt \
    "OPENBLAS_NUM_THREADS=1 python3 -m gilfree bench ${args[*]} | tee $OUT/interpreters.txt"

step "4. gilfree inside the free-threaded build (kernels scale the same?)"
if [[ -x "$FT" ]]; then
    "$FT" -m pip install -q --no-build-isolation --no-deps . || ok=1  # this tree's gilfree
    (cd /tmp && "$FT" -X gil=0 -c "import sys, gilfree; print('GIL enabled after import gilfree:', sys._is_gil_enabled())")
    args=(--strategies python,free-threaded,python-processes,gilfree-threads,gilfree,ceiling
          --workloads range --sizes 1e7,1e8 --workers 2 --repeats 7 --max-call 3
          --json "$OUT/freethreaded.json" --plain --no-progress)
    "$FT" -X gil=0 -m gilfree bench "${args[@]}" | tee "$OUT/freethreaded.txt" || ok=1
    note freethreaded.json,freethreaded.txt \
        "$FT -X gil=0 -m gilfree bench ${args[*]} | tee $OUT/freethreaded.txt  # after: $FT -m pip install --no-build-isolation --no-deps ."
else
    echo "no free-threaded Python at $FT: skipped"
fi

step "5. Dask on arrays at 10^8 (memory-bound)"
args=(--strategies numpy,gilfree,dask-gilfree,ceiling
      --workloads map,reduce --sizes 1e8 --dtypes float64 --workers 2 --heartbeat 0 --repeats 9
      --json "$OUT/dask_arrays.json" --plain --no-progress)
OPENBLAS_NUM_THREADS=1 python3 -m gilfree bench "${args[@]}" | tee "$OUT/dask_arrays.txt" || ok=1
note dask_arrays.json,dask_arrays.txt \
    "OPENBLAS_NUM_THREADS=1 python3 -m gilfree bench ${args[*]} | tee $OUT/dask_arrays.txt"

step "6. Ctrl-C latency"
python3 tools/interrupt_latency.py --markdown | tee "$OUT/interrupt.md" || ok=1
note interrupt.md "python3 tools/interrupt_latency.py --markdown | tee $OUT/interrupt.md"

step "7. gilfree probe on 2 threads: a GIL-holding loop, zlib.compress, hashlib.sha256"
for fn in python_loop compress sha256; do
    (cd perf/experiments && python3 -m gilfree probe "probe_targets:$fn" --workers 2 \
        --json "../../$OUT/probe_$fn.json" --html "../../$OUT/probe_$fn.html") \
        | tee "$OUT/probe_$fn.txt" || ok=1
    note "probe_$fn.json,probe_$fn.html,probe_$fn.txt" \
        "(cd perf/experiments && python3 -m gilfree probe probe_targets:$fn --workers 2 --json ../../$OUT/probe_$fn.json --html ../../$OUT/probe_$fn.html) | tee $OUT/probe_$fn.txt"
done

step "8. an extension's loops on gilfree's pool: the parallel-for row beside OpenMP's"
args=(--strategies gilfree,gilfree-openmp,gilfree-parallel-for,ceiling
      --workloads range,map,reduce --workers 1,2 --repeats 7 --heartbeat 0
      --json "$OUT/parallel_for.json" --plain --no-progress --no-html)
OPENBLAS_NUM_THREADS=1 python3 -m gilfree bench "${args[@]}" | tee "$OUT/parallel_for.txt" || ok=1
note parallel_for.json,parallel_for.txt \
    "OPENBLAS_NUM_THREADS=1 python3 -m gilfree bench ${args[*]} | tee $OUT/parallel_for.txt"

step "done: $OUT"
exit $ok
