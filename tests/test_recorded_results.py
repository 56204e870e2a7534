"""The layout of perf/results/: every recording in a dated folder with a README.

Each file under ``perf/results/`` lives in a folder ``DATE-MACHINE`` (UTC
date, then a machine slug), whose ``README.md`` names the date, the machine
(CPU model, cores, SIMD level), the versions and, for every file, the command
that wrote it; no ``_2``/``_3`` copies.  ``perf/run_recorded.py`` writes new
recordings that way; these tests check both the recorded tree and the writer.
Skipped where the repository's bench/ is not beside the tests (an installed
wheel, an sdist).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "perf"
RESULTS = BENCH / "results"
pytestmark = pytest.mark.skipif(not (BENCH / "run_recorded.py").exists(),
                                reason="perf/ not in this tree")

FOLDER = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-[a-z0-9]+(-[a-z0-9]+)*$")
COPY_SUFFIX = re.compile(r"_\d+$")


def _run_recorded():
    spec = importlib.util.spec_from_file_location("run_recorded", BENCH / "run_recorded.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def layout_problems(root: Path) -> list:
    """Every way `root` breaks the rule, as readable lines (empty: it holds)."""
    problems = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        stem = path.name.split(".")[0]
        if COPY_SUFFIX.search(stem):
            problems.append(f"{rel}: a numbered copy; record a new dated folder instead")
        if path.is_dir():
            if len(rel.parts) > 1:
                problems.append(f"{rel}: a folder inside a recording folder")
            elif not FOLDER.match(path.name):
                problems.append(f"{rel}: not named DATE-MACHINE (e.g. 2026-11-27-epyc-2vcpu)")
            continue
        if len(rel.parts) != 2:
            problems.append(f"{rel}: not in a dated recording folder")
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and FOLDER.match(p.name)):
        readme = folder / "README.md"
        if not readme.exists():
            problems.append(f"{folder.name}: no README.md")
            continue
        text = readme.read_text(encoding="utf-8")
        date = folder.name[:10]
        for what, pattern in (("the date", re.escape(f"**Date:** {date}")),
                              ("the machine", r"\*\*Machine:\*\* \S"),
                              ("the SIMD level", r"\*\*SIMD level:\*\* \S"),
                              ("the versions", r"\*\*Versions:\*\* .*gilfree .*Python .*NumPy")):
            if not re.search(pattern, text, re.S):
                problems.append(f"{folder.name}/README.md does not give {what}")
        # each file group: "### `a`, `b`", a paragraph, then its command in a sh block
        commands = {}
        for files, command in re.findall(r"^### ([^\n]+)\n\n.+?\n\n```sh\n(.+?)\n```$", text,
                                         re.M | re.S):
            for name in re.findall(r"`([^`]+)`", files):
                commands[name] = command.strip()
        for path in sorted(folder.iterdir()):
            if path.name != "README.md" and not commands.get(path.name):
                problems.append(f"{folder.name}/README.md gives no command for {path.name}")
    return problems


@pytest.mark.skipif(not RESULTS.exists(), reason="no perf/results/ here")
def test_every_recording_is_in_a_dated_folder_with_its_readme():
    assert layout_problems(RESULTS) == []


def test_the_rule_catches_copies_loose_files_and_missing_commands(tmp_path):
    (tmp_path / "bench.json").write_text("{}")
    folder = tmp_path / "2026-11-27-epyc-2vcpu"
    folder.mkdir()
    (folder / "interpreters_2.txt").write_text("x")
    (folder / "README.md").write_text("# nothing\n")
    (tmp_path / "old").mkdir()
    found = "\n".join(layout_problems(tmp_path))
    for words in ("bench.json: not in a dated", "interpreters_2.txt: a numbered copy",
                  "old: not named DATE-MACHINE", "does not give the date",
                  "does not give the machine", "gives no command for interpreters_2.txt"):
        assert words in found, found


def test_machine_slug_and_folder_name():
    rr = _run_recorded()
    assert rr.machine_slug("AMD EPYC", 2, True) == "epyc-2vcpu"
    assert rr.machine_slug("AMD EPYC 7B13 64-Core Processor", 8, True) == "epyc-7b13-8vcpu"
    assert rr.machine_slug("Intel(R) Xeon(R) Processor", 2, False) == "xeon-2cpu"
    assert rr.machine_slug("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", 12, False) == \
        "core-i7-8700-12cpu"
    assert rr.machine_slug("", 4, False) == "cpu-4cpu"
    import datetime

    when = datetime.datetime(2026, 12, 1, 23, 59, tzinfo=datetime.timezone.utc)
    path = rr.recording_folder({"cpu_model": "AMD EPYC", "usable_cpus": 2}, when, root="/r")
    assert path.startswith("/r/2026-12-01-epyc-2") and FOLDER.match(Path(path).name)


def test_new_recordings_get_a_readme_that_follows_the_rule(tmp_path):
    from gilfree.bench._engine import machine_header

    rr = _run_recorded()
    header = machine_header()
    folder = tmp_path / Path(rr.recording_folder(header, root=str(tmp_path))).name
    folder.mkdir()
    for name in ("bench.json", "table.txt", "perf_goals.json", "perf_goals.txt"):
        (folder / name).write_text("x")
    rr.note(str(folder), ["bench.json", "table.txt"], "python3 -m gilfree bench --quick "
            "| tee table.txt", header)
    rr.note(str(folder), ["perf_goals.json", "perf_goals.txt"], "python3 perf/goals.py",
            header)
    assert layout_problems(tmp_path) == []
    text = (folder / "README.md").read_text()
    assert header["cpu_model"] in text and f"SIMD level:** {header['simd']}" in text
    assert header["python"]["version"] in text and header["numpy"] in text
    entries = rr.parse_readme(text)
    assert [e[0] for e in entries] == [["bench.json", "table.txt"],
                                       ["perf_goals.json", "perf_goals.txt"]]
    assert entries[0][2] == "python3 -m gilfree bench --quick | tee table.txt"
    # a new command for the same files replaces their entry, the others stay
    rr.note(str(folder), ["perf_goals.json", "perf_goals.txt"], "python3 perf/goals.py -v",
            header)
    entries = rr.parse_readme((folder / "README.md").read_text())
    assert [e[2] for e in entries] == ["python3 -m gilfree bench --quick | tee table.txt",
                                       "python3 perf/goals.py -v"]


def test_the_recorded_readme_parses():
    """The hand-kept README of a recorded folder reads back like a written one."""
    rr = _run_recorded()
    for readme in sorted(RESULTS.glob("*/README.md")):
        entries = rr.parse_readme(readme.read_text(encoding="utf-8"))
        files = {f for e in entries for f in e[0]}
        assert files == {p.name for p in readme.parent.iterdir()} - {"README.md"}, readme


def test_note_refuses_a_folder_without_a_date(tmp_path):
    rr = _run_recorded()
    with pytest.raises(ValueError, match="`folder` must be named DATE-MACHINE"):
        rr.note(str(tmp_path / "results"), ["a.txt"], "true", header={})


def test_note_command_line():
    r = subprocess.run([sys.executable, str(BENCH / "run_recorded.py"), "--note", "x"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "usage: run_recorded.py --note" in r.stderr
