"""gilfree on Dask: the kernels chunk by chunk, from one machine to a cluster.

Install with ``pip install "gilfree[dask]"`` (``dask[array]`` and
``distributed``).  This is the only module of gilfree that imports Dask, and
it does so on first use: without Dask the functions raise ImportError.

- :func:`square`: ``np.square`` of a ``dask.array.Array``, block by block
  (``map_blocks``): same shape, chunks and dtype.
- :func:`sum_of_squares`: a tree reduction of per-block partial sums; exact
  Python ``int`` for integer input, ``float`` for float input.
- :func:`sum_squares_range`: ``sum(i*i for i in range(start, stop, step))``
  split into Dask tasks, exact.

All three build a lazy Dask graph; ``.compute()`` runs it on whatever
scheduler is active: Dask's default thread pool, or a
``dask.distributed.Client`` connected to a cluster.

Threads inside a task
---------------------
Each task calls gilfree with ``threads=1`` by default.  Dask already runs one
task per worker thread, so a gilfree pool inside each task would put
``threads x dask workers`` busy threads on the same cores (oversubscription:
slower, not faster).  Pass ``threads=n`` to use gilfree's pool inside each
task, for instance with a ``dask.distributed`` worker started with one
thread (``--nthreads 1``) on a machine with n cores.  ``threads=None``
uses the gilfree default *of the process that runs the task* (its
``gilfree.set_num_threads`` or ``GILFREE_NUM_THREADS``); a
``gilfree.num_threads(...)`` block around ``.compute()`` does not reach the
worker threads.
"""

from __future__ import annotations

import importlib
import math
import numbers

import numpy as np

import gilfree
from gilfree import _rules
from gilfree._threads import validate_threads

__all__ = ["square", "sum_of_squares", "sum_squares_range"]

#: Partial results combined per task of the tree reductions.
SPLIT_EVERY = 8

#: Default terms per task of :func:`sum_squares_range`: 2**24 terms take a
#: few milliseconds on one core, far above Dask's per-task overhead.
RANGE_CHUNK = 1 << 24


def _dask():
    """``(dask, dask.array)``, imported on first use.

    Imported lazily so that ``import gilfree.dask`` (documentation tools,
    stubtest) works without Dask; calling a function without Dask raises
    ImportError saying what to install.
    """
    try:
        return importlib.import_module("dask"), importlib.import_module("dask.array")
    except ImportError as exc:
        raise ImportError(f"gilfree.dask needs Dask: pip install \"gilfree[dask]\" ({exc})") \
            from exc


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------


def _check_array(darr) -> None:
    _, da = _dask()
    if not isinstance(darr, da.Array):
        raise TypeError(f"`darr` must be a dask.array.Array, got {type(darr).__name__}"
                        + (" (wrap NumPy arrays with dask.array.from_array, or call "
                           "gilfree directly)" if isinstance(darr, np.ndarray) else ""))


def _check_threads(threads) -> int | None:
    if threads is None:
        return None
    return validate_threads(threads, "threads", allow_none=True)


def _check_split_every(split_every) -> int:
    if isinstance(split_every, bool) or not isinstance(split_every, numbers.Integral):
        raise TypeError(f"`split_every` must be an int >= 2, got "
                        f"{type(split_every).__name__} {split_every!r}")
    if split_every < 2:
        raise ValueError(f"`split_every` must be an int >= 2, got {split_every}")
    return int(split_every)


def _probe(fn, dtype, **kwargs):
    """Run `fn` on an empty array of `dtype`: checks the dtype up front."""
    try:
        return fn(np.empty(0, dtype), **kwargs)
    except TypeError as exc:
        raise TypeError(f"`darr` has dtype {dtype}, which gilfree does not support: {exc}") \
            from None


# ---------------------------------------------------------------------------
# the task functions (module level: picklable for dask.distributed)
# ---------------------------------------------------------------------------


def _square_block(block, overflow, threads):
    return np.asarray(gilfree.square(block, overflow=overflow, threads=threads))


def _sos_block(block, threads):
    return gilfree.sum_of_squares(block, threads=threads)


def _sum_ints(parts):
    return sum(parts, 0)


def _float_partials(parts) -> list:
    """The exact sum of `parts` (floats, or lists from this function), as a list.

    The list holds non-overlapping floats whose exact sum is the exact sum of
    the inputs (Shewchuk's algorithm, the one behind :func:`math.fsum`), so
    the tree loses nothing until :func:`_sum_floats` rounds once at the root.
    """
    values = []
    for p in parts:
        if isinstance(p, list):
            values.extend(p)
        else:
            values.append(p)
    if not all(map(math.isfinite, values)):
        return [math.fsum(values)]  # inf/nan: fsum's rules (inf - inf is nan)
    partials: list = []
    for x in values:
        i = 0
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            if math.isinf(hi):
                # Finite block sums overflowed: sums of squares are >= 0, so
                # the total is inf (as np.sum gives), not the nan that
                # inf - inf would make of the partials.
                return [hi]
            lo = y - (hi - x)
            if lo:
                partials[i] = lo
                i += 1
            x = hi
        partials[i:] = [x]
    return partials


def _sum_floats(parts):
    """The correctly rounded sum of `parts` (floats, or lists of partials)."""
    return math.fsum(_float_partials(parts))


def _range_piece(start, stop, step, threads):
    return gilfree.sum_squares_range(start, stop, step, threads=threads)


def _tree(parts, combine, finish, split_every: int):
    """Combine Delayed `parts` `split_every` at a time, then `finish` the last few."""
    dask, _ = _dask()
    while len(parts) > split_every:
        parts = [dask.delayed(combine, pure=True)(parts[i:i + split_every])
                 for i in range(0, len(parts), split_every)]
    return dask.delayed(finish, pure=True)(parts)


# ---------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------


def square(darr, *, overflow="wrap", threads=1):
    """Elementwise square of a Dask array, computed block by block by gilfree.

    Parameters
    ----------
    darr : dask.array.Array
        Any shape and chunking; a dtype that :func:`gilfree.square`
        accepts (native kernels for int8-int64, uint8-uint64, float32,
        float64; bool, float16 and complex through NumPy).
    overflow : {"wrap", "raise"}, optional
        As in :func:`gilfree.square`.  With ``"raise"`` the block that
        overflows raises ``OverflowError`` when the result is computed; its
        message gives the index *within that block*.
    threads : int or None, optional
        gilfree threads inside each task (default 1: Dask runs the tasks in
        parallel already).  None: the default of the process that runs the
        task.

    Returns
    -------
    dask.array.Array
        Lazy ``np.square(darr)``: same shape, chunks and dtype.

    Raises
    ------
    TypeError
        If `darr` is not a Dask array, its dtype is not supported, or
        `threads` is not an int.
    ValueError
        If `overflow` or `threads` has a bad value.

    Examples
    --------
    >>> import dask.array as da
    >>> import gilfree.dask
    >>> d = da.arange(6, dtype="int32", chunks=4)
    >>> sq = gilfree.dask.square(d)
    >>> sq.dtype, sq.chunks
    (dtype('int32'), ((4, 2),))
    >>> sq.compute(scheduler="threads")
    array([ 0,  1,  4,  9, 16, 25], dtype=int32)
    >>> gilfree.dask.square(da.full(3, 100, dtype="int8", chunks=2),
    ...                     overflow="raise").compute(scheduler="threads")
    Traceback (most recent call last):
    ...
    OverflowError: square overflows at index 0: 100**2 = 10000 ...
    """
    _check_array(darr)
    threads = _check_threads(threads)
    _rules.overflow_mode(overflow)  # the core's check and message
    dtype = _probe(gilfree.square, darr.dtype, overflow=overflow, threads=1).dtype
    meta = np.empty((0,) * darr.ndim, dtype=dtype)
    return darr.map_blocks(_square_block, overflow, threads, dtype=dtype, meta=meta,
                           token="gilfree-square")


def sum_of_squares(darr, *, threads=1, split_every=SPLIT_EVERY):
    """Sum of squares of a Dask array as a tree reduction, exact for integers.

    Each block is summed by :func:`gilfree.sum_of_squares` (exact Python int
    for integer blocks, float64 for float blocks), then the partials are
    combined `split_every` at a time: Python ints, which never wrap (NumPy's
    int64 would), or floats carried exactly (as :func:`math.fsum` does) and
    rounded once at the end, so the result is the correctly rounded sum of
    the per-block float64 sums, whatever the chunking of the tree.

    Parameters
    ----------
    darr : dask.array.Array
        Any shape and chunking, a dtype :func:`gilfree.sum_of_squares`
        accepts.
    threads : int or None, optional
        gilfree threads inside each task (default 1).  None: the default of
        the process that runs the task.
    split_every : int, optional
        Partials combined per task of the tree (default 8).

    Returns
    -------
    dask.delayed.Delayed
        ``.compute()`` gives an ``int`` for integer input, a ``float`` for
        float input.

    Raises
    ------
    TypeError
        If `darr` is not a Dask array or its dtype is not supported, or an
        argument is not an int.
    ValueError
        If `threads` or `split_every` is out of range.

    Examples
    --------
    >>> import dask.array as da
    >>> import gilfree.dask
    >>> d = da.full(10, 2**62, dtype="int64", chunks=3)
    >>> gilfree.dask.sum_of_squares(d).compute(scheduler="threads")  # exact: 10 * 2**124
    212676479325586539664609129644855132160
    >>> gilfree.dask.sum_of_squares(da.ones((4, 5), chunks=2)).compute(scheduler="threads")
    20.0
    """
    _check_array(darr)
    threads = _check_threads(threads)
    split_every = _check_split_every(split_every)
    zero = _probe(gilfree.sum_of_squares, darr.dtype, threads=1)
    if isinstance(zero, float):
        combine, finish = _float_partials, _sum_floats
    else:
        combine, finish = _sum_ints, _sum_ints
    blocks = darr.to_delayed(optimize_graph=True).ravel().tolist()
    dask, _ = _dask()
    parts = [dask.delayed(_sos_block, pure=True)(b, threads) for b in blocks]
    return _tree(parts, combine, finish, split_every)


#: The most tasks sum_squares_range makes: Dask schedules a task in about
#: 0.1-1 ms, so a million already take minutes before any work is done, and
#: a range of 2**63 terms in pieces of one would never finish building.
MAX_RANGE_TASKS = 1_000_000


def _piece_lengths(n: int, chunks) -> list:
    if isinstance(chunks, bool):
        raise TypeError(f"`chunks` must be a positive int or a tuple of ints, got bool {chunks!r}")
    if isinstance(chunks, numbers.Integral):
        size = int(chunks)
        if size < 1:
            raise ValueError(f"`chunks` must be a positive int, got {size}")
        tasks = -(-n // size)
        if tasks > MAX_RANGE_TASKS:
            raise ValueError(f"`chunks`={size} cuts the range's {n} terms into {tasks} tasks; "
                             f"at most {MAX_RANGE_TASKS} are allowed: pass larger chunks")
        return [min(size, n - a) for a in range(0, n, size)]
    if isinstance(chunks, (tuple, list)):
        sizes = []
        for c in chunks:
            if isinstance(c, bool) or not isinstance(c, numbers.Integral) or c < 0:
                raise TypeError(f"`chunks` must hold non-negative ints, got {c!r}")
            sizes.append(int(c))
        if sum(sizes) != n:
            raise ValueError(f"`chunks` must add up to the length of the range, {n}, "
                             f"got {sum(sizes)}")
        return sizes
    raise TypeError(f"`chunks` must be a positive int or a tuple of ints, "
                    f"got {type(chunks).__name__} {chunks!r}")


def sum_squares_range(start, stop=None, step=1, *, chunks=RANGE_CHUNK, threads=1,
                      split_every=SPLIT_EVERY):
    """``sum(i*i for i in range(start, stop, step))`` split into Dask tasks.

    Compute-bound (no memory traffic), so it scales with the cores of the
    scheduler's workers.  Arguments are read like :func:`range`'s.

    Parameters
    ----------
    start, stop, step : int
        The range; each must fit in int64, `step` must not be 0.
    chunks : int or tuple of int, optional
        Terms per task (default 2**24, a few milliseconds of one core), or
        the length of every task, adding up to ``len(range(...))``.
    threads : int or None, optional
        gilfree threads inside each task (default 1).  None: the default of
        the process that runs the task.
    split_every : int, optional
        Partial sums combined per task of the tree (default 8).

    Returns
    -------
    dask.delayed.Delayed
        ``.compute()`` gives the exact sum, a Python ``int``.

    Raises
    ------
    TypeError
        If an argument is not an int (or `chunks` not an int or tuple).
    ValueError
        If `step` is zero, a bound does not fit in int64, or `chunks`,
        `threads` or `split_every` is out of range.

    Examples
    --------
    >>> import gilfree.dask
    >>> total = gilfree.dask.sum_squares_range(10**6, chunks=10**5)
    >>> total.compute(scheduler="threads") == sum(i * i for i in range(10**6))
    True
    >>> gilfree.dask.sum_squares_range(10, 0, -3, chunks=2).compute(scheduler="threads")
    166
    """
    dask, _ = _dask()
    start, stop, step = _rules.range_args(start, stop, step)
    n = _rules.range_length(start, stop, step)
    threads = _check_threads(threads)
    split_every = _check_split_every(split_every)
    sizes = _piece_lengths(n, chunks)
    # each piece stops one past its last term, which is within int64
    # (a + size * step could overshoot it)
    one = 1 if step > 0 else -1
    parts = []
    i = 0
    for size in sizes:
        if size:
            a = start + i * step
            last = a + (size - 1) * step
            parts.append(dask.delayed(_range_piece, pure=True)(a, last + one, step, threads))
        i += size
    return _tree(parts, _sum_ints, _sum_ints, split_every)
