"""Three functions for ``gilfree probe``, one of each kind the probe tells
apart (the recorded probe runs of perf/record.sh use them)::

    cd perf/experiments && gilfree probe probe_targets:python_loop --workers 2

- ``python_loop``: a pure-Python loop; holds the GIL for all of its time.
- ``compress``: ``zlib.compress`` of 2 MiB of text; zlib releases the GIL.
- ``sha256``: ``hashlib.sha256`` of 4 MiB; hashlib releases the GIL for
  inputs over 2 KiB.
"""
import hashlib
import zlib

_TEXT = b"who ran when: threads, processes and the GIL " * 46603  # ~2 MiB
_DATA = bytes(range(256)) * 16384  # 4 MiB


def python_loop(n=300000):
    total = 0
    for i in range(n):
        total += i * i
    return total


def compress(level=6):
    return len(zlib.compress(_TEXT, level))


def sha256():
    return hashlib.sha256(_DATA).hexdigest()
