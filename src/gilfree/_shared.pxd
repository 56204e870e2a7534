# Argument helpers shared by gilfree._core (NumPy arrays, the pool) and
# gilfree._buffer (buffer-protocol objects, subinterpreters), so that both
# accept and reject the same ranges with the same messages.  Inline: each
# module gets its own copy and no module state is shared.
from cpython.number cimport PyNumber_Index
from libc.stdint cimport int64_t
from libc.string cimport memset

from ._gilfree cimport gf_task, gf_u192


cdef inline int64_t int64_arg(object v, str name) except? -1:
    """`v` as an int64, or TypeError/ValueError naming the argument."""
    if isinstance(v, bool) or not hasattr(type(v), "__index__"):
        raise TypeError(f"`{name}` must be an int, got {type(v).__name__} {v!r}")
    v = PyNumber_Index(v)
    if not (-(1 << 63) <= v < (1 << 63)):
        raise ValueError(f"`{name}` must fit in int64 ([-2**63, 2**63 - 1]), got {v}")
    return v


cdef inline int64_t range_plan(object start, object stop, object step, gf_task *t) except -1:
    """Clear `t` and fill start/step/n for range(start, stop, step); return n."""
    cdef int64_t a, b, s
    if stop is None:
        a = 0
        b = int64_arg(start, "start")
    else:
        a = int64_arg(start, "start")
        b = int64_arg(stop, "stop")
    s = int64_arg(step, "step")
    if s == 0:
        raise ValueError("`step` must not be zero")
    # The length with Python ints: b - a can overflow int64.
    d = <object>b - <object>a
    if s > 0:
        n = (d + s - 1) // s if d > 0 else 0
    else:
        n = (d + s + 1) // s if d < 0 else 0
    if n > (1 << 63) - 1:
        raise ValueError(f"range({a}, {b}, {s}) has {n} elements; at most 2**63 - 1 are supported")
    memset(t, 0, sizeof(t[0]))
    t.start = a
    t.step = s
    t.n = n
    t.n0 = 1
    t.n1 = n
    return n


cdef inline object u192_to_int(gf_u192 *v):
    """The 192-bit unsigned sum as a Python int."""
    if v.w[1] == 0 and v.w[2] == 0:
        return v.w[0]
    return (<object>v.w[2] << 128) | (<object>v.w[1] << 64) | <object>v.w[0]
