"""Workloads, their data (optionally in shared memory) and their reference results.

A :class:`Case` names one measurement grid cell's work: a workload, a size and
(for arrays) a dtype.  :class:`CaseData` holds its input and output arrays and
checks a strategy's result against the exact value before any time counts.

The arrays live in ``multiprocessing.shared_memory`` when a process-based
strategy is selected, so worker processes attach to them by name instead of
receiving pickled copies (:func:`attach`).  The creator always unlinks the
segments, also on errors and KeyboardInterrupt (``CaseData`` is a context
manager and the engine uses it in a ``with`` block).
"""

from __future__ import annotations

import itertools
import os
import sys
import zlib
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

from .. import _reference
from .._timing import _worker

__all__ = ["WORKLOADS", "Case", "CaseData", "DataSpec", "attach", "expected_fingerprint"]

#: The three workloads, in report order, with one line each for the report.
WORKLOADS = {
    "range": "sum of i*i over range(n): compute-bound, no memory traffic",
    "map": "out = x*x over an array: memory-bound at large n",
    "reduce": "sum of x*x over an array: reads only",
}

#: Elements per block when generating data or checking results: 4 Mi items
#: (32 MiB of float64) bounds the temporaries at 10^8-10^9 elements.
_BLOCK = 1 << 22

#: Prefix of the shared-memory segments, so leaks are easy to spot in
#: /dev/shm (the tests look for it).
SHM_PREFIX = "gilfree-bench"
_shm_counter = itertools.count()


@dataclass(frozen=True)
class Case:
    """One workload at one size (and dtype, for the array workloads).

    Parameters
    ----------
    workload : {"range", "map", "reduce"}
        What is computed.
    n : int
        Number of elements (range length or array size).
    dtype : {"float64", "int64"} or None
        Element type of the array workloads; None for ``range``.
    """

    workload: str
    n: int
    dtype: str | None = None

    @property
    def itemsize(self) -> int:
        return 0 if self.dtype is None else np.dtype(self.dtype).itemsize

    @property
    def bytes_moved(self) -> int:
        """Bytes one call must move to or from memory: map reads and writes."""
        per = {"range": 0, "map": 2, "reduce": 1}[self.workload]
        return per * self.itemsize * self.n

    @property
    def reads_only(self) -> bool:
        """True when a call only reads memory (compare with the read bandwidth)."""
        return self.workload == "reduce"

    @property
    def series(self) -> tuple:
        """The (workload, dtype) series this case belongs to."""
        return (self.workload, self.dtype)

    @property
    def label(self) -> str:
        dt = f" {self.dtype}" if self.dtype else ""
        return f"{self.workload}{dt} n={format_n(self.n)}"

    def to_dict(self) -> dict:
        return {"workload": self.workload, "n": self.n, "dtype": self.dtype}


def format_n(n: int) -> str:
    """``10^6`` for powers of ten, else ``1,500,000``."""
    if n >= 10 and 10 ** (len(str(n)) - 1) == n:
        return f"10^{len(str(n)) - 1}"
    return f"{n:,}"


def values_block(a: int, b: int, dtype) -> np.ndarray:
    """``x[a:b]`` of the workload data, the NumPy twin of ``_worker.make_values``."""
    i = np.arange(a, b, dtype=np.int64)
    return (i * _worker.VALUE_MULT % _worker.VALUE_MOD - _worker.VALUE_OFFSET).astype(dtype)


def _blocks(n: int):
    for a in range(0, n, _BLOCK):
        yield a, min(n, a + _BLOCK)


def exact_range_sum(n: int) -> int:
    """``sum(i*i for i in range(n))`` exactly (closed form)."""
    return _reference.sum_squares_range(0, n)


@dataclass(frozen=True)
class DataSpec:
    """What a worker process needs to attach to a case's arrays (picklable)."""

    case: Case
    x_name: str | None = None
    out_name: str | None = None


class CaseData:
    """The arrays of one case, and the check of a strategy's result.

    Create it with :meth:`create` in a ``with`` block.  Attributes used by
    the kernels: ``case``, ``n``, ``workload``, ``x`` and ``out`` (NumPy
    arrays, None for ``range``) and ``x_mv``/``out_mv`` (memoryviews of the
    same memory, for the pure-Python kernels).
    """

    def __init__(self, case: Case, x, out, segments=(), owner: bool = False, shm_error=None):
        self.case = case
        self.n = case.n
        self.workload = case.workload
        self.x = x
        self.out = out
        self.x_mv = None if x is None else memoryview(x)
        self.out_mv = None if out is None else memoryview(out)
        self._segments = list(segments)
        self._owner = owner
        #: Why the arrays are not in shared memory when that was asked for.
        self.shm_error = shm_error
        self._expected = None

    # -- construction -------------------------------------------------------

    @classmethod
    def create(cls, case: Case, shared: bool = False) -> CaseData:
        """Allocate and fill the arrays of `case`.

        Parameters
        ----------
        case : Case
            The work.
        shared : bool, optional
            Put the arrays in ``multiprocessing.shared_memory``.  If that
            fails (no /dev/shm, or too little room for the arrays) the
            arrays are private and :attr:`shm_error` says why.
        """
        if case.workload == "range":
            return cls(case, None, None)
        nbytes = case.n * case.itemsize
        segments = []
        shm_error = None
        if shared:
            shm_error = _shm_room_error(2 * nbytes)
        if shared and shm_error is None:
            try:
                for _ in range(2):
                    segments.append(shared_memory.SharedMemory(
                        name=f"{SHM_PREFIX}-{os.getpid()}-{next(_shm_counter)}",
                        create=True, size=max(1, nbytes)))
            except OSError as exc:
                _release(segments, unlink=True)
                segments = []
                shm_error = f"cannot create shared memory: {exc}"
        try:
            if segments:
                x = np.ndarray((case.n,), case.dtype, buffer=segments[0].buf)
                out = np.ndarray((case.n,), case.dtype, buffer=segments[1].buf)
            else:
                x = np.empty(case.n, case.dtype)
                out = np.empty(case.n, case.dtype)
            for a, b in _blocks(case.n):
                x[a:b] = values_block(a, b, case.dtype)
            out.fill(0)  # first-touch the pages now, not inside a timed call
        except BaseException:
            _release(segments, unlink=True)
            raise
        return cls(case, x, out, segments, owner=True, shm_error=shm_error)

    def spec(self) -> DataSpec:
        """The picklable handle workers attach with (needs shared memory)."""
        if self.case.workload != "range" and not self._segments:
            raise RuntimeError("the arrays of this case are not in shared memory")
        names = [s.name for s in self._segments] + [None, None]
        return DataSpec(self.case, names[0], names[1])

    # -- lifetime -----------------------------------------------------------

    def close(self) -> None:
        """Drop the arrays; the creator also unlinks the shared memory."""
        for mv in (self.x_mv, self.out_mv):
            if mv is not None:
                mv.release()
        self.x = self.out = self.x_mv = self.out_mv = None
        _release(self._segments, unlink=self._owner)
        self._segments = []

    def __enter__(self) -> CaseData:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- checking results ---------------------------------------------------

    def reset_output(self) -> None:
        """Poison ``out`` so a strategy that writes nothing cannot pass."""
        if self.out is not None:
            # -1 is no square of anything; NaN compares unequal to everything
            self.out.fill(np.nan if self.out.dtype.kind == "f" else -1)

    def expected(self):
        """The exact result: an int for range and reduce, None for map."""
        if self._expected is None:
            if self.workload == "range":
                self._expected = exact_range_sum(self.n)
            elif self.workload == "reduce":
                self._expected = _exact_reduce(self.x)
        return self._expected

    def verify(self, result, modulus: int | None = None) -> str | None:
        """None if `result` is right, else a message saying what is wrong.

        Parameters
        ----------
        result : object
            What the strategy's call returned (ignored for map, whose
            output array is compared with ``np.square(x)`` element by
            element).
        modulus : int, optional
            Compare modulo this number: for strategies that sum in int64
            and wrap (NumPy on the range workload), which is their
            documented behaviour, not a bug of the bench.
        """
        if self.workload == "map":
            for a, b in _blocks(self.n):
                want = np.square(self.x[a:b])
                bad = np.flatnonzero(self.out[a:b] != want)
                if bad.size:
                    i = a + int(bad[0])
                    return (f"out[{i}] = {self.out[i]!r}, expected {want[bad[0]]!r} "
                            f"({bad.size} wrong in block {a}:{b})")
            return None
        want = self.expected()
        if isinstance(result, (np.integer, np.floating)):
            result = result.item()
        if not isinstance(result, (int, float)) or isinstance(result, bool):
            return f"returned {type(result).__name__} {result!r}, expected a number"
        if modulus is not None:
            if isinstance(result, float) or (int(result) - want) % modulus:
                return f"returned {result!r}, expected {want} modulo {modulus}"
            return None
        # Exact equality also for floats: the data are small integers, so
        # every partial sum is an integer below 2**53 whatever the order.
        if result != want:
            return f"returned {result!r}, expected {want}"
        return None


def _exact_reduce(x: np.ndarray) -> int:
    total = 0
    for a, b in _blocks(x.size):
        xi = x[a:b].astype(np.int64)
        total += int(np.dot(xi, xi))  # |x| <= 1000: no int64 overflow per block
    return total


def expected_fingerprint(case: Case):
    """What ``_worker.ArrayData.fingerprint`` gives for a correct run.

    Computed from scratch (the host's arrays are gone by the time another
    interpreter's rows come back): the exact sum, or for map the CRC-32 of
    the bytes of ``np.square(x)``.
    """
    if case.workload == "range":
        return exact_range_sum(case.n)
    if case.workload == "reduce":
        total = 0
        for a, b in _blocks(case.n):
            xi = values_block(a, b, np.int64)
            total += int(np.dot(xi, xi))
        return total
    crc = 0
    for a, b in _blocks(case.n):
        crc = zlib.crc32(np.square(values_block(a, b, case.dtype)), crc)
    return {"crc32": crc}


def _shm_room_error(nbytes: int) -> str | None:
    """Why `nbytes` of shared memory would not fit, or None.

    On Linux the segments live in the /dev/shm tmpfs; writing past its size
    kills the process with SIGBUS instead of raising, so check first
    (Docker's default /dev/shm is only 64 MiB).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        st = os.statvfs("/dev/shm")
    except OSError as exc:
        return f"no /dev/shm: {exc}"
    free = st.f_bavail * st.f_frsize
    if free < nbytes * 1.05:
        return (f"/dev/shm has {free / 2**20:.0f} MiB free, the arrays need "
                f"{nbytes / 2**20:.0f} MiB (docker run --shm-size=...)")
    return None


def _release(segments, unlink: bool) -> None:
    for seg in segments:
        try:
            if unlink:
                # unlink first: it only needs the name, and must happen even
                # if a view of the buffer is still alive somewhere
                seg.unlink()
        except FileNotFoundError:
            pass
        finally:
            try:
                seg.close()
            except BufferError:
                # an array still views the memory; the mapping goes away
                # with the last view, the name is already gone
                pass


# ---------------------------------------------------------------------------
# the worker side
# ---------------------------------------------------------------------------

_attached: dict = {}


def attach(spec: DataSpec) -> CaseData:
    """The worker-process view of a case's shared arrays (cached per spec).

    A worker keeps only the latest case attached: at 10^8 elements each
    case maps 1.6 GB, so stale attachments must not pile up.
    """
    data = _attached.get(spec)
    if data is not None:
        return data
    for old in list(_attached.values()):
        old.close()
    _attached.clear()
    if spec.x_name is None or spec.out_name is None:
        data = CaseData(spec.case, None, None)  # range: no arrays
    else:
        segs = [_open_segment(spec.x_name), _open_segment(spec.out_name)]
        x = np.ndarray((spec.case.n,), spec.case.dtype, buffer=segs[0].buf)
        out = np.ndarray((spec.case.n,), spec.case.dtype, buffer=segs[1].buf)
        data = CaseData(spec.case, x, out, segs, owner=False)
    _attached[spec] = data
    return data


def _open_segment(name: str) -> shared_memory.SharedMemory:
    if sys.version_info >= (3, 13):
        # the creator owns the segment; the worker must not register it with
        # the resource tracker, or the tracker could unlink it early
        return shared_memory.SharedMemory(name=name, track=False)
    return shared_memory.SharedMemory(name=name)
