"""``gilfree bench --python PATH`` with other interpreters: Jython, PyPy, IronPython.

Fast: tiny sizes only.  The Jython and PyPy tests run against whichever of
``jython`` and ``pypy3`` is on PATH (``.ci/run`` installs both with apt) and
skip cleanly otherwise; the JVM start makes a Jython test take ~10-20 s.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys

import pytest

from gilfree import __main__ as cli
from gilfree import bench
from gilfree.bench import _cases, _foreign, _worker27
from gilfree.bench._cases import Case
from gilfree.bench._engine import Settings

REQ = {"workers": [1, 2], "repeats": 2, "warmup": 1, "min_time": 1e-4, "max_call": 5.0,
       "heartbeat": 0.0, "heartbeat_workers": 2, "heartbeat_series": []}
MISSING = "gilfree-no-such-python-xyz"


def _tiny(**changes) -> Settings:
    from dataclasses import replace

    return replace(Settings.preset("tiny"), **changes)


# ---------------------------------------------------------------------------
# the Python 2.7/3 worker, checked without any other interpreter
# ---------------------------------------------------------------------------


def test_worker27_source_is_python27_compatible():
    with open(_worker27.__file__, encoding="utf-8") as f:
        source = f.read()
    tree = ast.parse(source)
    future = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    assert future and {a.name for a in future[0].names} >= {"print_function", "division"}
    names = set()
    for node in ast.walk(tree):
        assert not isinstance(node, (ast.JoinedStr, ast.AnnAssign, ast.AsyncFunctionDef,
                                     ast.NamedExpr)), ast.dump(node)[:80]
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            a = node.args
            assert not a.kwonlyargs and not a.posonlyargs and not getattr(node, "returns", None)
            assert all(x.annotation is None for x in a.args)
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: it runs as a script"
            names.add(node.module.split(".")[0])
    assert "nonlocal" not in source and "yield from" not in source
    std = set(getattr(sys, "stdlib_module_names", names)) | {"__future__", "java"}
    assert names <= std, names - std
    assert not names & {"gilfree", "numpy"}


def _check_rows(rows, java=False):
    measured = [r for r in rows if r.get("values")]
    assert measured
    for row in measured:
        assert row["result"] == _cases.expected_fingerprint(Case("range", row["n"], None)), row
        assert len(row["values"]) == REQ["repeats"] and row["warmup_values"]
    names = {(r["strategy"], r["workers"]) for r in measured}
    assert {("python", 1), ("python-threads", 1), ("python-threads", 2)} <= names
    if java:
        assert {(_worker27.JAVA_LABEL, 1), (_worker27.JAVA_LABEL, 2)} <= names


def test_worker27_runs_as_a_script_under_this_python(tmp_path):
    script = tmp_path / "worker.py"
    shutil.copy(_worker27.__file__, script)  # away from the package
    req = dict(REQ, cases=[{"workload": "range", "n": 3000, "dtype": None},
                           {"workload": "reduce", "n": 100, "dtype": "float64"}])
    r = subprocess.run([sys.executable, "-I", str(script)], input=json.dumps(req),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert lines[-1]["event"] == "result"
    rows = lines[-1]["rows"]
    _check_rows([r for r in rows if r["workload"] == "range"])
    assert all("range workload only" in r["skipped"] for r in rows if r["workload"] == "reduce")
    info = subprocess.run([sys.executable, str(script), "--info"], capture_output=True,
                          text=True, timeout=60)
    assert json.loads(info.stdout)["version"] == ".".join(map(str, sys.version_info[:3]))


def test_worker27_warm_up_stops_when_stable():
    calls = []
    times = _worker27.warm_up(lambda: calls.append(1), 1.0, 1)
    assert 2 <= len(times) <= _worker27.MAX_WARMUP


# ---------------------------------------------------------------------------
# real foreign interpreters (skip where not installed)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("exe, impl, gil", [("pypy3", "PyPy", True), ("jython", "Jython", False)])
def test_foreign_interpreter_rows_are_verified(exe, impl, gil):
    path = shutil.which(exe)
    if path is None:
        pytest.skip(f"{exe} is not installed (apt-get install -y jython pypy3)")
    info = _foreign.probe_python(path)
    assert info["implementation"] == impl and info["gil_enabled"] is gil
    assert not _foreign.uses_portable(info)
    got, rows = _foreign.run_foreign(path, [Case("range", 2000, None)], REQ)
    assert got["label"] == info["label"] and ("no GIL" in got["label"]) is not gil
    assert all(r.get("verified") for r in rows if "result" in r), rows
    _check_rows(rows, java=impl == "Jython")
    procs = [r for r in rows if r["strategy"] == "python-processes"]
    if impl == "Jython":
        assert all("no multiprocessing" in r["skipped"] for r in procs)
    else:
        assert all(r.get("verified") for r in procs)


def test_host_cpython_still_uses_the_portable_worker():
    info = _foreign.probe_python(sys.executable)
    assert _foreign.uses_portable(info)


# ---------------------------------------------------------------------------
# missing interpreters and bad --python values
# ---------------------------------------------------------------------------


def test_missing_interpreter_is_a_skip_line_not_a_crash():
    result = bench.run(_tiny(strategies=("python",), workloads=("range",),
                             pythons=(MISSING, "ipy")))
    assert not result["errors"]
    reasons = {s["name"]: s["skip_reason"] for s in result["strategies"]}
    assert "not installed here" in reasons[f"--python {MISSING}"]
    if shutil.which("ipy") is None:
        assert "IronPython" in reasons["--python ipy"] and "ipy64" in reasons["--python ipy"]


def test_cli_missing_interpreter_prints_skip_and_exits_0(capsys):
    rc = cli.main(["bench", "--strategies", "python", "--workloads", "range", "--sizes", "1e3",
                   "--workers", "2", "--repeats", "1", "--min-time", "1e-4", "--heartbeat", "0",
                   "--python", MISSING, "--no-progress", "--plain"])
    assert rc == 0
    out = capsys.readouterr().out
    assert f"--python {MISSING}: not installed here" in out


@pytest.mark.parametrize("value, message", [
    ("/nonexistent/bin/python9", "no executable Python at"),
    ("/bin/true", "printed no interpreter description"),
    ("/bin/false", "exited with 1 when probed (is it a Python?)"),
])
def test_bad_python_value_exits_2(value, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", "--python", value, "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--python" in err and message in err


# ---------------------------------------------------------------------------
# the stdlib worker as a script (what --python runs under CPython builds)
# ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.thread_unsafe(reason="starts a process pool in a subprocess")
def test_portable_script_runs_threads_processes_and_verifies():
    """``_portable.py`` as a script: rows for the loop, threads and (spawned)
    processes, each with the exact result of the range loop."""
    from gilfree.bench import _portable

    n = 20000
    req = dict(REQ, cases=[{"workload": "range", "n": n, "dtype": None}])
    r = subprocess.run([sys.executable, _portable.__file__], input=json.dumps(req),
                       capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["event"] == "result"
    rows = {(row["strategy"], row["workers"]): row for row in result["rows"]}
    exact = sum(i * i for i in range(n))
    threads = "python-threads" if getattr(sys, "_is_gil_enabled", lambda: True)() else "free-threaded"
    if _portable.subinterpreters_skip_reason() is None:  # 3.13+ GIL builds
        for w in (1, 2):
            row = rows[("subinterpreters", w)]
            assert not row.get("error") and row["result"] == sum(i * i for i in range(n)), row
    for key in (("python", 1), (threads, 1), (threads, 2),
                ("python-processes", 1), ("python-processes", 2)):
        row = rows[key]
        assert not row.get("error") and not row.get("skipped"), row
        assert row["result"] == exact and len(row["values"]) == REQ["repeats"], key
