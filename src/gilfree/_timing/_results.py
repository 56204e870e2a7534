"""Results of a timed function: when two are the same, and how much memory they keep.

Standard library only, and Python 3.8 syntax: the probe loads this file by
path under other interpreters, where gilfree may not be installed.  NumPy is
used only when it is already imported (a result cannot be an array
otherwise).

Equality (:func:`same`) is value equality with these rules, everywhere in
a result:

- values of different types differ (``1`` and ``1.0``, a list and a tuple);
- NaN equals NaN (a float, a complex part, an array element, a NumPy
  scalar), and ``-0.0`` equals ``0.0``, as ``==`` and ``np.array_equal``
  say: a result is compared for its value, not its bits;
- lists, tuples (named tuples too), dicts, sets and dataclasses (with the
  ``__eq__`` that ``@dataclass`` writes) are compared item by item with
  these rules, so a NaN inside them is equal too; an ``OrderedDict`` also
  compares its order;
- NumPy arrays and scalars: same shape and dtype, same values;
- any other object: its own ``==`` (or ``.equals``, as pandas has), and
  when that gives no truth value, equal pickles.

Size (:func:`deep_size`) is the memory an object keeps alive: containers
are followed recursively (each object counted once), NumPy arrays count the
buffer they keep (``nbytes`` of the array that owns it), instances count
their ``__dict__`` and ``__slots__``; a ``__sizeof__`` written in Python is
not trusted (an object can say it is small), objects of C types that are
not known containers count at least their pickled size.
"""

from __future__ import annotations

import dataclasses
import pickle
import sys
import types

__all__ = ["deep_size", "same"]

#: Below this depth of nesting, containers are compared item by item; a
#: deeper structure is compared with ``==`` (in C, with its own limit).
MAX_DEPTH = 200

_ATOMS = (int, str, bytes, bool, type(None), range, slice)


def _numpy():
    return sys.modules.get("numpy")


def _float_same(a, b) -> bool:
    return a == b or (a != a and b != b)


def _generated_eq(cls) -> bool:
    """True if `cls` is a dataclass whose ``__eq__`` is the one ``@dataclass`` wrote."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.eq:
        return False
    eq = cls.__dict__.get("__eq__")
    code = getattr(eq, "__code__", None)
    # dataclasses writes its methods with exec(): their code has no file
    return code is not None and code.co_filename == "<string>"


def same(a, b, _depth: int = 0) -> bool:
    """True if `a` and `b` are the same result (the rules in the module docstring).

    Examples
    --------
    >>> same({"x": [float("nan"), -0.0]}, {"x": [float("nan"), 0.0]})
    True
    >>> same(1, 1.0), same((1, 2), [1, 2])
    (False, False)
    """
    if a is b:
        return True
    t = type(a)
    if t is not type(b):
        return False
    try:
        if t is float:
            return _float_same(a, b)
        if t is complex:
            return _float_same(a.real, b.real) and _float_same(a.imag, b.imag)
        if t in _ATOMS:
            return a == b
        np = _numpy()
        if np is not None and isinstance(a, (np.ndarray, np.generic)):
            return _same_numpy(np, a, b, _depth)
        if _depth >= MAX_DEPTH:
            return _same_eq(a, b)
        d = _depth + 1
        if isinstance(a, (list, tuple)) and t.__eq__ in (list.__eq__, tuple.__eq__):
            return len(a) == len(b) and all(same(x, y, d) for x, y in zip(a, b))
        if isinstance(a, dict) and t.__eq__ is dict.__eq__:
            return a.keys() == b.keys() and all(same(a[k], b[k], d) for k in a)
        if isinstance(a, dict) and t.__eq__ is _ordered_eq():
            return list(a) == list(b) and all(same(a[k], b[k], d) for k in a)
        if isinstance(a, (set, frozenset)) and t.__eq__ in (set.__eq__, frozenset.__eq__):
            return _same_sets(a, b, d)
        if dataclasses.is_dataclass(a) and _generated_eq(t):
            fields = [f.name for f in dataclasses.fields(a) if f.compare]
            return all(same(getattr(a, f), getattr(b, f), d) for f in fields)
    except RecursionError:
        pass
    return _same_eq(a, b)


def _ordered_eq():
    from collections import OrderedDict

    return OrderedDict.__eq__


def _same_sets(a, b, depth) -> bool:
    if len(a) != len(b):
        return False
    if a == b:
        return True
    # NaN (or another object unequal to itself) makes == fail: pair the
    # items that == left unmatched
    left = [x for x in a if x not in b]
    right = [y for y in b if y not in a]
    for x in left:
        for i, y in enumerate(right):
            if same(x, y, depth):
                del right[i]
                break
        else:
            return False
    return not right


def _same_numpy(np, a, b, depth) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    kind = a.dtype.kind
    if kind == "O":
        return all(same(x, y, depth + 1) for x, y in zip(a.ravel().tolist(),
                                                         b.ravel().tolist()))
    try:
        return bool(np.array_equal(a, b, equal_nan=kind in "fc"))
    except (TypeError, ValueError):  # structured dtypes refuse equal_nan
        return bool(np.array_equal(a, b)) or same(a.tolist(), b.tolist(), depth + 1)


def _same_eq(a, b) -> bool:
    """``==`` where it gives a truth value, else ``.equals``, else equal pickles."""
    try:
        eq = a == b
        if isinstance(eq, bool):
            return eq
        np = _numpy()
        if np is not None and isinstance(eq, np.bool_):
            return bool(eq)
    except Exception:
        pass
    equals = getattr(a, "equals", None)
    if callable(equals):
        try:
            eq = equals(b)
            if isinstance(eq, bool):
                return eq
        except Exception:
            pass
    try:
        return pickle.dumps(a) == pickle.dumps(b)
    except Exception:
        return False


# ---------------------------------------------------------------------------
# size
# ---------------------------------------------------------------------------

#: Not followed: what a result refers to through these is shared with the
#: rest of the program, not kept by the result (counted with its own size).
_OPAQUE: tuple[type, ...] = (type, types.ModuleType, types.FunctionType,
                             types.BuiltinFunctionType, types.MethodType, types.CodeType,
                             types.FrameType)

_CONTAINERS = (list, tuple, set, frozenset, dict)

#: Types whose ``__sizeof__`` is written in C by CPython itself: trusted.
_TRUSTED = _ATOMS + (float, complex, bytearray, memoryview) + _CONTAINERS


def _slot_names(cls):
    for k in cls.__mro__:
        slots = k.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if name not in ("__dict__", "__weakref__"):
                yield name


def _python_class(cls) -> bool:
    """True for a class defined in Python (its instances are followed by
    their ``__dict__``/``__slots__``)."""
    return any("__dict__" in k.__dict__ or "__slots__" in k.__dict__
               for k in cls.__mro__ if k is not object)


def _pickled_size(obj) -> int:
    """Bytes of `obj`'s pickle, out-of-band buffers counted but not copied."""
    sizes = []

    def buffer(pb):
        sizes.append(pb.raw().nbytes)
        return False  # keep it out of band: not copied into the pickle

    return len(pickle.dumps(obj, protocol=5, buffer_callback=buffer)) + sum(sizes)


def deep_size(obj, limit=None, seen=None) -> int:
    """Bytes `obj` keeps alive, counting every object it holds once.

    Parameters
    ----------
    obj : object
        A result.
    limit : int, optional
        Stop counting once the total exceeds this (the return value is then
        only known to be larger than `limit`).
    seen : set, optional
        ``id`` of the objects already counted (share one set to count
        several results that share objects once).

    Returns
    -------
    int
        The size in bytes (at least ``limit + 1`` when counting stopped).

    Examples
    --------
    >>> deep_size([b"x" * 1000] * 3) < deep_size([b"x" * 1000, b"y" * 1000, b"z" * 1000])
    True
    """
    seen = set() if seen is None else seen
    np = _numpy()
    total = 0
    stack = [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        t = type(o)
        if t in _ATOMS or t is float or t is complex:
            total += sys.getsizeof(o)
        elif np is not None and isinstance(o, np.ndarray):
            total += _array_size(np, o, seen, stack)
        elif isinstance(o, _CONTAINERS):
            # list.__sizeof__ and friends, in C, whatever a subclass says
            total += _base_sizeof(o)
            if isinstance(o, dict):
                for k, v in list(o.items()):
                    stack.append(k)
                    stack.append(v)
            else:
                stack.extend(list(o))
            _push_attrs(o, stack)
        elif isinstance(o, _OPAQUE):
            total += sys.getsizeof(o, 64)
        else:
            total += _object_size(o, t, stack)
        if limit is not None and total > limit:
            return total
    return total


def _base_sizeof(o) -> int:
    for base in (dict, list, tuple, set, frozenset):
        if isinstance(o, base):
            return base.__sizeof__(o) + 16  # + the GC header sys.getsizeof adds
    return sys.getsizeof(o, 64)


def _array_size(np, a, seen, stack) -> int:
    size = object.__sizeof__(a)
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root is not a:
        if id(root) in seen:
            return size  # its buffer is counted already
        seen.add(id(root))
    if root.base is None:
        size += root.nbytes
    else:  # a buffer from elsewhere (bytes, mmap, another library): count what we see
        stack.append(root.base)
        size += 0 if isinstance(root.base, (bytes, bytearray)) else root.nbytes
    if a.dtype.kind == "O":
        stack.extend(a.ravel().tolist())
    return size


def _push_attrs(o, stack) -> None:
    try:
        d = object.__getattribute__(o, "__dict__")
    except AttributeError:
        d = None
    except Exception:
        d = None
    if isinstance(d, dict):
        stack.append(d)
    for name in _slot_names(type(o)):
        try:
            stack.append(object.__getattribute__(o, name))
        except Exception:  # an unset slot
            pass


def _object_size(o, t, stack) -> int:
    if t in _TRUSTED or type(t.__sizeof__) is not types.FunctionType:
        # a C __sizeof__: the type's own account of its memory
        try:
            size = sys.getsizeof(o)
        except Exception:
            size = object.__sizeof__(o)
    else:
        # __sizeof__ written in Python: an object can claim anything
        size = object.__sizeof__(o) + 16
    if _python_class(t):
        _push_attrs(o, stack)
    elif t not in _TRUSTED and t.__module__ != "builtins":
        # a C type of an extension: its memory may not show in __sizeof__
        try:
            size = max(size, _pickled_size(o))
        except Exception:
            pass
    return size
