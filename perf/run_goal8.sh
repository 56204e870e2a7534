#!/bin/sh
# Goal 8 on a machine with at least 16 usable CPUs: sum_squares_range at 16
# threads against the 16-process ceiling.  Builds gilfree from this checkout
# in a fresh virtual environment (a temporary folder, removed afterwards),
# runs `perf/goals.py --goals 8` and prints its result line; the exit
# status is the script's (0 PASS or SKIP, 1 FAIL).  With fewer than 16 CPUs
# the goal is reported as SKIP.
#
#     sh perf/run_goal8.sh [--json out.json]
#
# PYTHON picks the interpreter (default python3).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
venv=$(mktemp -d "${TMPDIR:-/tmp}/gilfree-goal8.XXXXXX")
trap 'rm -rf "$venv"' EXIT INT TERM
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
"$venv/bin/python" -m pip install -q "$here"
cd "$venv"  # import the installed gilfree, not the checkout's src/
"$venv/bin/python" -c 'import gilfree, os; print("gilfree", gilfree.__version__, "from", os.path.dirname(gilfree.__file__), "with", gilfree.cpu_count(), "usable CPUs")'
"$venv/bin/python" "$here/perf/goals.py" --goals 8 "$@"
