"""Type stubs for the compiled core, ``gilfree._core`` (src/gilfree/_core.pyx).

Checked against the built module by ``python -m mypy.stubtest gilfree``
(tools/check-dist.sh and CI).  Return types follow NumPy's own stubs: an
array-like input gives ``NDArray``, although a 0-d input gives a NumPy scalar
at run time, exactly as ``np.square`` does.
"""

from typing import Any, Literal, SupportsIndex, TypeAlias, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

_ScalarT = TypeVar("_ScalarT", bound=np.generic)
_ArrayT = TypeVar("_ArrayT", bound=np.ndarray[Any, Any])
_Threads: TypeAlias = SupportsIndex | None
_Overflow: TypeAlias = Literal["wrap", "raise"]
_PyScalar: TypeAlias = bool | int | float | complex

#: Cython's doctest table (docstrings by function name).
__test__: dict[str, str]

# ------------------------------------------------------------------ square
@overload
def square(
    x: ArrayLike, /, out: _ArrayT, *, threads: _Threads = None, overflow: _Overflow = "wrap"
) -> _ArrayT: ...
@overload
def square(
    x: _PyScalar | np.generic,
    /,
    out: None = None,
    *,
    threads: _Threads = None,
    overflow: _Overflow = "wrap",
) -> Any: ...
@overload
def square(
    x: np.ndarray[Any, np.dtype[_ScalarT]],
    /,
    out: None = None,
    *,
    threads: _Threads = None,
    overflow: _Overflow = "wrap",
) -> NDArray[_ScalarT]: ...
@overload
def square(
    x: ArrayLike, /, out: None = None, *, threads: _Threads = None, overflow: _Overflow = "wrap"
) -> NDArray[Any]: ...
@overload
def square_holding_gil(x: ArrayLike, out: _ArrayT) -> _ArrayT: ...
@overload
def square_holding_gil(x: ArrayLike, out: None = None) -> Any: ...

# ---------------------------------------------------------- sum of squares
@overload
def sum_of_squares(
    x: NDArray[np.integer[Any]] | NDArray[np.bool_], /, *, threads: _Threads = None
) -> int: ...
@overload
def sum_of_squares(x: NDArray[np.floating[Any]], /, *, threads: _Threads = None) -> float: ...
@overload
def sum_of_squares(x: ArrayLike, /, *, threads: _Threads = None) -> int | float: ...
def sum_of_squares_holding_gil(x: ArrayLike) -> int | float: ...

# ------------------------------------------------------------------ ranges
def sum_squares_range(
    start: SupportsIndex,
    stop: SupportsIndex | None = None,
    step: SupportsIndex = 1,
    *,
    threads: _Threads = None,
) -> int: ...
def sum_squares_range_holding_gil(
    start: SupportsIndex, stop: SupportsIndex | None = None, step: SupportsIndex = 1
) -> int: ...
@overload
def squares_range(
    start: SupportsIndex,
    stop: SupportsIndex | None = None,
    step: SupportsIndex = 1,
    *,
    threads: _Threads = None,
) -> NDArray[np.int64]: ...
@overload
def squares_range(
    start: SupportsIndex,
    stop: SupportsIndex | None = None,
    step: SupportsIndex = 1,
    *,
    dtype: type[_ScalarT] | np.dtype[_ScalarT],
    threads: _Threads = None,
) -> NDArray[_ScalarT]: ...
@overload
def squares_range(
    start: SupportsIndex,
    stop: SupportsIndex | None = None,
    step: SupportsIndex = 1,
    *,
    dtype: DTypeLike,
    threads: _Threads = None,
) -> NDArray[Any]: ...

def _raise_overflow(a: np.ndarray[Any, Any]) -> None: ...
