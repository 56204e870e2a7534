"""The repository speaks of the software, not of how it was made.

Every tracked text file (README, docs, docstrings and comments, scripts,
recorded results) is searched for wording that describes the development
process instead of the software: working sessions, ticket numbers, the
recording script's old name, and the like.  Binary files are skipped.

The patterns are written with ``\\s+`` and ``[_]`` so that this file does not
match itself.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each pattern, with what a reader should find instead.
FORBIDDEN = [
    (r"\bthis\s+session", "say what was measured, with date, machine and command"),
    (r"\b(previous|earlier|last|next)\s+sessions?\b", "name the recorded run by date"),
    (r"\bissue\s+#?\d+", "describe the feature, not the ticket"),
    (r"\bissue\s+N\b", "describe the feature, not the ticket"),
    (r"\brecord[_]session", "the recording script is perf/record.sh"),
    (r"\bnot[_]drawn\b", "say what was not measured and why, in terms of hardware"),
    (r"\bdevice\s+tool\b", "name the machine, not the tool that lent it"),
    (r"\bhelpers?\s+(agents?|engineers?|sessions?)\b", "speak of the software"),
    (r"\b(agent|AI)[-\s]+helpers?\b", "speak of the software"),
    (r"\brun\s+of\s+the\s+day\b", "name the recorded run by date"),
    (r"Acceptance\s+\(issue", "name the criterion"),
]

_COMPILED = [(re.compile(p, re.IGNORECASE), hint) for p, hint in FORBIDDEN]


def tracked_text_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = []
    for name in out.decode("utf-8", "surrogateescape").split("\0"):
        if not name:
            continue
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree, or a submodule
            continue
        head = path.read_bytes()[:8192]
        if b"\0" in head:  # binary (PNG and the like)
            continue
        files.append(path)
    return files


FILES = tracked_text_files()


def test_repository_is_a_git_checkout_or_skipped():
    if not (ROOT / ".git").exists():
        pytest.skip("not run from a git checkout (e.g. a wheel's test copy)")
    assert FILES, "git ls-files found no text files"
    assert any(p.name == "README.md" for p in FILES)


@pytest.mark.skipif(not FILES, reason="not run from a git checkout")
def test_no_development_process_wording():
    hits = []
    for path in FILES:
        text = path.read_bytes().decode("utf-8", "replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            for rx, hint in _COMPILED:
                m = rx.search(line)
                if m:
                    rel = path.relative_to(ROOT)
                    hits.append(f"{rel}:{lineno}: {m.group(0)!r} ({hint})")
    assert not hits, "development-process wording:\n" + "\n".join(hits)


@pytest.mark.parametrize(
    "text, bad",
    [
        ("figures from " + "this" + " session", True),
        ("the previous " + "session's run", True),
        ("Issue" + " 4's goals", True),
        ("see issue " + "#12", True),
        ("bash bench/record" + "_session.sh", True),
        ("reported not" + "_drawn", True),
        ("Acceptance" + " (issue" + " 3):", True),
        ("the pool's helper threads attach to the job", False),
        ("max_helpers workers", False),
        ("a session of measurements", False),
        ("Issues = https://example.org/issues", False),
    ],
)
def test_patterns(text, bad):
    assert any(rx.search(text) for rx, _ in _COMPILED) is bad
