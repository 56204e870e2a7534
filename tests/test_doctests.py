"""Run the Examples in the docstrings of every public name (and of the
reference twins) as doctests.

The public functions are Cython functions, which ``doctest.testmod`` does
not discover on its own, so each one is handed to ``DocTestFinder``
explicitly.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import gilfree
from gilfree import _reference

# pytest-run-parallel (free-threaded CI): doctests change the process-wide thread default
pytestmark = pytest.mark.thread_unsafe(reason="doctests change the process-wide thread default")

PUBLIC = [name for name in gilfree.__all__ if callable(getattr(gilfree, name)) and not name.startswith("__")]
REFERENCE = ["square", "sum_of_squares", "sum_squares_range", "squares_range"]
KERNELS = ["square", "sum_of_squares", "sum_squares_range", "squares_range"]

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def run_doctests(obj, name: str) -> doctest.TestResults:
    finder = doctest.DocTestFinder(recurse=False)
    tests = finder.find(obj, name, globs={"np": np, "gilfree": gilfree})
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    failures = attempted = 0
    report: list[str] = []
    for test in tests:
        r = runner.run(test, out=report.append, clear_globs=True)
        failures += r.failed
        attempted += r.attempted
    assert failures == 0, "".join(report)
    return doctest.TestResults(failures, attempted)


def test_public_names():
    assert set(KERNELS) <= set(gilfree.__all__)
    for name in gilfree.__all__:
        assert hasattr(gilfree, name), name


@pytest.mark.parametrize("name", PUBLIC)
def test_public_docstring_examples(name, restore_num_threads):
    obj = getattr(gilfree, name)
    assert obj.__doc__, f"gilfree.{name} has no docstring"
    with np.printoptions(legacy=False):
        run_doctests(obj, f"gilfree.{name}")


@pytest.mark.parametrize("name", KERNELS)
def test_kernels_have_numpydoc_sections_and_examples(name):
    doc = getattr(gilfree, name).__doc__
    for section in ("Parameters", "Returns", "Examples"):
        assert f"\n{section}\n" in doc or f"    {section}\n" in doc, f"{name}: no {section} section"
    assert run_doctests(getattr(gilfree, name), name).attempted > 0


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_docstring_examples(name):
    obj = getattr(_reference, name)
    assert run_doctests(obj, f"gilfree._reference.{name}").attempted > 0
