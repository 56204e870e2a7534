"""Type stubs for ``gilfree._pfor`` (src/gilfree/_pfor.pyx).

The bench's ``gilfree-parallel-for`` row: the loops of ``gilfree._openmp``
on gilfree's pool through the public parallel-for C-API.  Built everywhere.
"""

from typing import Literal, TypeVar, overload

import numpy as np
from numpy.typing import NDArray

_NumT = TypeVar("_NumT", np.float64, np.int64)

#: Cython's doctest table (docstrings by function name).
__test__: dict[str, str]
available: Literal[True]

def square(x: NDArray[_NumT], out: NDArray[_NumT], nthreads: int) -> NDArray[_NumT]: ...
@overload
def sum_of_squares(x: NDArray[np.float64], nthreads: int) -> float: ...
@overload
def sum_of_squares(x: NDArray[np.int64], nthreads: int) -> int: ...
def sum_squares_range(start: int, stop: int, step: int, nthreads: int) -> int: ...
