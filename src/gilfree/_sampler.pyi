"""Type stubs for ``gilfree._sampler`` (src/gilfree/_sampler.pyx): the
per-thread timeline sampler on a native helper thread."""

from collections.abc import Sequence
from typing import Final

from typing_extensions import disjoint_base

#: Cython's doctest table (docstrings by function name).
__test__: dict[str, str]
#: True where the OS gives per-thread run times (Linux).
supported: Final[bool]
_ERRORS: dict[int, str]

@disjoint_base
class Sampler:
    ids: tuple[int, ...]
    kinds: tuple[str, ...]
    period: float
    def __init__(
        self,
        threads: Sequence[int] = (),
        processes: Sequence[int] = (),
        period: float = 0.001,
        max_seconds: float = 120.0,
    ) -> None: ...
    def start(self) -> Sampler: ...
    def stop(self) -> Sampler: ...
    @property
    def running(self) -> bool: ...
    def readings(self) -> tuple[list[float], list[list[float | None]], list[bool]]: ...
    @property
    def cost(self) -> tuple[float, float]: ...
    def _check(self) -> None: ...

def _raise(err: int, ids: object) -> None: ...
