"""Shared pytest configuration for the gilfree test suite.

The suite runs against the *installed* package (``pip install .`` or
``pip install -e .``); nothing here touches ``sys.path``.

Hypothesis profiles
-------------------
``dev`` (default)
    Quick local runs: few examples, default randomisation.
``ci``
    Reproducible CI runs: more examples, no deadline (shared CI machines are
    noisy), derandomised so a failure reproduces bit for bit.

Pick one with the ``HYPOTHESIS_PROFILE`` environment variable.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too so the suite does not depend on pyproject.toml
    # declaring it (unknown markers are errors under --strict-markers).
    config.addinivalue_line(
        "markers", "slow: takes more than a second or two; deselect with -m 'not slow'"
    )
    # filterwarnings=error also applies while Hypothesis' pytest plugin
    # reports a failure, and that path may import mypy_extensions, which
    # warns about itself: an INTERNALERROR would hide the real failure.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    )


@pytest.fixture
def restore_num_threads():
    """Put the process-wide default thread count back after the test."""
    import gilfree

    old = gilfree.get_num_threads()
    # get_num_threads() may report a num_threads() override of this context;
    # tests using this fixture run outside any override, so `old` is the
    # process default.
    yield old
    gilfree.set_num_threads(old)
