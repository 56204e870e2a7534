"""``gilfree bench --python PATH`` with other interpreters: Jython, PyPy, IronPython.

Fast: tiny sizes only.  The Jython and PyPy tests run against whichever of
``jython`` and ``pypy3`` is on PATH (``.ci/run`` installs both with apt) and
skip cleanly otherwise; the JVM start makes a Jython test take ~10-20 s.
"""

from __future__ import annotations

import ast
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from gilfree import __main__ as cli
from gilfree import bench
from gilfree._timing import _client, _loop, _worker
from gilfree.bench import _cases, _foreign
from gilfree.bench._cases import Case
from gilfree.bench._engine import Settings

REQ = {"workers": [1, 2], "repeats": 2, "warmup": 1, "min_time": 1e-4, "max_call": 5.0,
       "heartbeat": 0.0, "heartbeat_workers": 2, "heartbeat_series": []}
MISSING = "gilfree-no-such-python-xyz"


def _tiny(**changes) -> Settings:
    from dataclasses import replace

    return replace(Settings.preset("tiny"), **changes)


# ---------------------------------------------------------------------------
# the portable worker (Python 2.7 and 3), checked without any other interpreter
# ---------------------------------------------------------------------------


def test_portable_source_is_python27_compatible():
    with open(_worker.__file__, encoding="utf-8") as f:
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
        if isinstance(node, ast.Attribute):
            assert node.attr not in ("exec", "print"), "keywords in Python 2"
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: it runs as a script"
            names.add(node.module.split(".")[0])
    assert "nonlocal" not in source and "yield from" not in source
    std = set(getattr(sys, "stdlib_module_names", names)) | {"__future__", "java", "_interpreters"}
    assert names <= std, names - std
    assert not names & {"gilfree", "numpy"}


def _python2():
    """A working CPython 2.7 (on PATH or under pyenv), or None."""
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python")))
    found += [p for p in (shutil.which("python2.7"), shutil.which("python2")) if p]
    for python in found:
        try:  # a pyenv shim of a version that is not selected exits 127
            r = subprocess.run([python, "-c", "import sys; assert sys.version_info[0] == 2"],
                               capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        if r.returncode == 0:
            return python
    return None


def _check_rows(rows, java=False):
    measured = [r for r in rows if r.get("values")]
    assert measured
    for row in measured:
        assert row["result"] == _cases.expected_fingerprint(Case("range", row["n"], None)), row
        assert len(row["values"]) == REQ["repeats"] and row["warmup_values"]
    names = {(r["strategy"], r["workers"]) for r in measured}
    assert {("python", 1), ("python-threads", 1), ("python-threads", 2)} <= names
    if java:
        assert {(_worker.JAVA_LABEL, 1), (_worker.JAVA_LABEL, 2)} <= names


#: Runs the copied script in its range profile (what Jython, PyPy and older
#: CPythons run) under this Python: it is imported as a module so the range
#: profile's process pool can pickle its share function by name.
_RANGE_PROFILE = ("import sys; sys.path.insert(0, sys.argv[1]); import worker; "
                  "worker.full_profile = lambda info: False; sys.exit(worker.main())")


def _run_range_profile(python, script):
    cases = [{"workload": "range", "n": 3000, "dtype": None},
             {"workload": "reduce", "n": 100, "dtype": "float64"}]
    result = _client.run_rows([python, "-c", _RANGE_PROFILE, str(script.parent)], cases, REQ)
    rows = result["rows"]
    _check_rows([r for r in rows if r["workload"] == "range"])
    assert all("range workload only" in r["skipped"] for r in rows if r["workload"] == "reduce")
    procs = [r for r in rows if r["strategy"] == "python-processes" and r["workload"] == "range"]
    assert procs and all(r["result"] == sum(i * i for i in range(3000)) for r in procs), procs
    return result["interpreter"]


def test_range_profile_runs_as_a_script_under_this_python(tmp_path):
    script = tmp_path / "worker.py"
    shutil.copy(_worker.__file__, script)  # away from the package
    _run_range_profile(sys.executable, script)
    info = subprocess.run([sys.executable, str(script), "--info"], capture_output=True,
                          text=True, timeout=60)
    assert json.loads(info.stdout)["version"] == ".".join(map(str, sys.version_info[:3]))


def test_portable_runs_under_cpython27(tmp_path):
    """The whole file under a real Python 2.7 (where one is installed): its
    --info line, and the range profile that interpreter gets by itself."""
    python = _python2()
    if python is None:
        pytest.skip("no CPython 2.7 here")
    script = tmp_path / "worker.py"
    shutil.copy(_worker.__file__, script)
    info = _run_range_profile(python, script)
    assert info["version"].startswith("2.7") and not _worker.full_profile(info)
    rows = _client.run_rows([python, str(script)], [{"workload": "range", "n": 1000,
                                                     "dtype": None}], REQ)["rows"]
    assert rows and all(row["warmup_values"] for row in rows if row.get("values"))


def test_warm_up_stops_when_stable():
    calls = []
    times = _loop.warm_up(lambda: calls.append(1), 1.0, 1)
    assert 2 <= len(times) <= _loop.MAX_WARMUP
    assert len(calls) == len(times) - 1  # the first call is the caller's


# ---------------------------------------------------------------------------
# real foreign interpreters (skip where not installed)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("exe, impl, gil", [("pypy3", "PyPy", True), ("jython", "Jython", False)])
def test_foreign_interpreter_rows_are_verified(exe, impl, gil):
    path = shutil.which(exe)
    if path is None:
        pytest.skip(f"{exe} is not installed (apt-get install -y jython pypy3)")
    info = _foreign.describe_python(path)
    assert info["implementation"] == impl and info["gil_enabled"] is gil
    assert not _worker.full_profile(info)
    got, rows = _foreign.run_foreign(path, [Case("range", 2000, None)], REQ)
    assert got["label"] == info["label"] and ("no GIL" in got["label"]) is not gil
    assert all(r.get("verified") for r in rows if "result" in r), rows
    _check_rows(rows, java=impl == "Jython")
    procs = [r for r in rows if r["strategy"] == "python-processes"]
    if impl == "Jython":
        assert all("no multiprocessing" in r["skipped"] for r in procs)
    else:
        assert all(r.get("verified") for r in procs)


def test_host_cpython_runs_the_full_profile():
    info = _foreign.describe_python(sys.executable)
    assert _worker.full_profile(info)
    assert info == dict(_worker.interpreter_info(), executable=info["executable"])


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
    ("/bin/false", "exited with 1 when asked to describe itself (is it a Python?)"),
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
    """``_worker.py`` as a script: rows for the loop, threads and (spawned)
    processes, each with the exact result of the range loop."""
    n = 20000
    result = _client.run_rows([sys.executable, _worker.__file__],
                              [{"workload": "range", "n": n, "dtype": None}], REQ)
    rows = {(row["strategy"], row["workers"]): row for row in result["rows"]}
    exact = sum(i * i for i in range(n))
    threads = "python-threads" if getattr(sys, "_is_gil_enabled", lambda: True)() else "free-threaded"
    if _worker.subinterpreters_skip_reason() is None:  # 3.13+ GIL builds
        for w in (1, 2):
            row = rows[("subinterpreters", w)]
            assert not row.get("error") and row["result"] == sum(i * i for i in range(n)), row
    for key in (("python", 1), (threads, 1), (threads, 2),
                ("python-processes", 1), ("python-processes", 2)):
        row = rows[key]
        assert not row.get("error") and not row.get("skipped"), row
        assert row["result"] == exact and len(row["values"]) == REQ["repeats"], key
