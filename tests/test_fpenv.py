"""The floating-point environment gilfree computes in: the caller's.

A pool worker runs a call's chunks under the calling thread's rounding mode
and flush-to-zero / denormals-are-zero modes, so a caller that changed them
(``fesetround``, or an extension built with ``-ffast-math`` that turned on
flush-to-zero) gets the same bits for any ``threads`` and the bits NumPy
gives on the calling thread.  The modes are set here through the C
library's ``fesetround``/``fesetenv`` with ctypes, as another extension in
the process would set them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import numpy as np
import pytest

import gilfree

pytestmark = pytest.mark.thread_unsafe(reason="changes the calling thread's FP modes")

# <fenv.h> values of the rounding modes, per architecture.
_ROUNDING = {
    "x86_64": {"nearest": 0x000, "downward": 0x400, "upward": 0x800, "towardzero": 0xC00},
    "AMD64": {"nearest": 0x000, "downward": 0x400, "upward": 0x800, "towardzero": 0xC00},
    "aarch64": {"nearest": 0, "upward": 0x400000, "downward": 0x800000,
                "towardzero": 0xC00000},
    "arm64": {"nearest": 0, "upward": 0x400000, "downward": 0x800000, "towardzero": 0xC00000},
}
MODES = _ROUNDING.get(platform.machine())


def _libm():
    name = ctypes.util.find_library("m")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        lib.fesetround, lib.fegetround, lib.fesetenv  # noqa: B018
    except (OSError, AttributeError):
        return None
    return lib


LIBM = _libm()
needs_fenv = pytest.mark.skipif(LIBM is None or MODES is None,
                                reason="needs the C library's <fenv.h> on x86-64 or AArch64")

# Enough elements for several chunks on 2 and 3 threads (512 KiB chunks).
N = 4 * 65536 + 123


def _values(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Wide magnitudes: every product rounds, and the rounding direction shows.
    return rng.standard_normal(N) * np.exp(rng.uniform(-20, 20, N))


class _rounding:
    def __init__(self, mode: str):
        self.mode = MODES[mode]

    def __enter__(self):
        self.old = LIBM.fegetround()
        assert LIBM.fesetround(self.mode) == 0
        return self

    def __exit__(self, *exc):
        LIBM.fesetround(self.old)


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


@needs_fenv
@pytest.mark.parametrize("mode", ["upward", "downward", "towardzero"])
def test_sum_of_squares_under_the_callers_rounding_mode(mode):
    x = _values(1)
    nearest = gilfree.sum_of_squares(x, threads=1)
    with _rounding(mode):
        got = {t: gilfree.sum_of_squares(x, threads=t) for t in (1, 2, 3)}
        again = gilfree.sum_of_squares(x, threads=2)
    assert len({r.hex() for r in got.values()}) == 1, got
    assert again.hex() == got[1].hex()
    # The mode did change the result, so the comparison above can fail.
    assert got[1].hex() != nearest.hex()
    # And the workers went back to their own modes afterwards.
    assert gilfree.sum_of_squares(x, threads=2).hex() == nearest.hex()


@needs_fenv
@pytest.mark.parametrize("mode", ["upward", "downward", "towardzero"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_square_under_the_callers_rounding_mode(mode, dtype):
    x = _values(2).astype(dtype)
    with _rounding(mode), np.errstate(all="ignore"):
        expected = np.square(x)
        got = {t: gilfree.square(x, threads=t) for t in (1, 2, 3)}
    for t, r in got.items():
        assert _bits(r) == _bits(expected), (mode, t)
    with np.errstate(all="ignore"):
        assert _bits(np.square(x)) != _bits(expected)  # the mode mattered


@needs_fenv
def test_the_callers_rounding_mode_is_left_as_it_was():
    x = _values(3)
    with _rounding("upward"):
        gilfree.sum_of_squares(x, threads=2)
        gilfree.square(x, threads=2)
        assert LIBM.fegetround() == MODES["upward"]


# Flush-to-zero and denormals-are-zero on, as -ffast-math's crtfastmath.o
# sets them at load time: glibc's x86-64 fenv_t ends with the MXCSR word
# (offset 28), and its fesetenv loads that word whole.
_MXCSR_AT = 28
_FTZ_DAZ = 0x8040
needs_ftz = pytest.mark.skipif(
    LIBM is None or platform.machine() != "x86_64" or platform.libc_ver()[0] != "glibc",
    reason="sets MXCSR through glibc's x86-64 fenv_t")


class _flush_to_zero:
    def __enter__(self):
        self.saved = ctypes.create_string_buffer(64)
        assert LIBM.fegetenv(self.saved) == 0
        env = bytearray(self.saved.raw)
        mxcsr = int.from_bytes(env[_MXCSR_AT:_MXCSR_AT + 4], "little") | _FTZ_DAZ
        env[_MXCSR_AT:_MXCSR_AT + 4] = mxcsr.to_bytes(4, "little")
        assert LIBM.fesetenv(ctypes.create_string_buffer(bytes(env), 64)) == 0
        return self

    def __exit__(self, *exc):
        LIBM.fesetenv(self.saved)


@needs_ftz
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_flush_to_zero_is_the_callers(dtype):
    # Squares of these are subnormal: flushed to zero under FTZ only.
    tiny = {"float32": 1e-21, "float64": 1e-160}[dtype]
    x = np.full(N, tiny, dtype) * np.linspace(1, 2, N, dtype=dtype)
    with np.errstate(all="ignore"):
        plain = np.square(x)
    assert plain.any()
    with _flush_to_zero(), np.errstate(all="ignore"):
        expected = np.square(x)
        squares = {t: gilfree.square(x, threads=t) for t in (1, 2, 3)}
        sums = {t: gilfree.sum_of_squares(x, threads=t) for t in (1, 2, 3)}
    assert not expected.any()  # FTZ flushed every square
    for t, r in squares.items():
        assert _bits(r) == _bits(expected), t
    assert len({s.hex() for s in sums.values()}) == 1, sums
    with np.errstate(all="ignore"):
        assert _bits(gilfree.square(x, threads=2)) == _bits(plain)  # workers restored


@needs_ftz
def test_denormals_are_zero_is_the_callers():
    # Subnormal inputs read as zero under DAZ.
    x = np.full(N, 1e-310) * np.linspace(1, 2, N)
    with _flush_to_zero():
        sums = {t: gilfree.sum_of_squares(x, threads=t) for t in (1, 2, 3)}
    assert set(sums.values()) == {0.0}, sums
