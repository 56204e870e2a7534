"""gilfree's kernels on any buffer-protocol object, without NumPy.

``square``, ``sum_of_squares`` and ``sum_squares_range`` take
``array.array``, ``memoryview``, ``bytearray`` or NumPy arrays (1-D or
C-contiguous; strided 1-D memoryviews too) and run the same C kernels as
:mod:`gilfree` on the calling thread, with the GIL released.  The extension
behind them (``gilfree._buffer``) imports no NumPy and keeps no state, so it
loads in subinterpreters that have their own GIL (PEP 684/734); there,
``import gilfree`` provides exactly these three functions.

Examples
--------
>>> import array
>>> from gilfree import buffer
>>> buffer.sum_of_squares(array.array('d', [1.0, 2.0, 3.0]))
14.0
"""

from ._buffer import square, sum_of_squares, sum_squares_range

__all__ = ["square", "sum_of_squares", "sum_squares_range"]
