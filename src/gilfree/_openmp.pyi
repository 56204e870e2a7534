"""Type stubs for ``gilfree._openmp`` (src/gilfree/_openmp.pyx).

The module exists only where the compiler had OpenMP (not with Apple clang,
nor with GILFREE_OPENMP=0); the bench imports it inside ``try``.
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
