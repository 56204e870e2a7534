"""Type stubs for ``gilfree._buffer`` (src/gilfree/_buffer.pyx): gilfree's
kernels on buffer-protocol objects, loadable in subinterpreters."""

import array
from typing import Any, Literal, TypeVar, overload

from typing_extensions import Buffer

_OutT = TypeVar("_OutT", bound=Buffer)

#: Cython's doctest table (docstrings by function name).
__test__: dict[str, str]

@overload
def square(x: Buffer, out: None = None, *,
           overflow: Literal["wrap", "raise"] = "wrap") -> array.array[Any]: ...
@overload
def square(x: Buffer, out: _OutT, *, overflow: Literal["wrap", "raise"] = "wrap") -> _OutT: ...
def sum_of_squares(x: Buffer) -> int | float: ...
def sum_squares_range(start: int, stop: int | None = None, step: int = 1) -> int: ...
