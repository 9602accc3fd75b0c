"""A buffer of engine move rows (``codes.MOVE_WIDTH`` int32 each).

Generators append with ``buf, n = push(buf, n, ...)``. ``push`` never allocates: past
the end of ``buf`` it only counts, and the caller regenerates into a buffer of the
counted size (``phases.gen_legal``). Keeping allocation out of ``push`` matters because
numba compiles a copy of it into every call site; with the growth code inlined there,
compiling the move generator took about twice as long.
"""

from __future__ import annotations

import numpy as np

from ringrift.game._jit import njit
from ringrift.game.codes import MOVE_WIDTH


@njit
def new_buffer(capacity):
    """An empty move buffer with room for ``capacity`` rows."""
    return np.empty((max(capacity, 8), MOVE_WIDTH), dtype=np.int32)


@njit
def push(buf, n, t, a, b, c, d, e):
    """Write the row ``[t, a, b, c, d, e]`` at index ``n`` if it fits; returns ``(buf, n + 1)``."""
    if n >= buf.shape[0]:
        return buf, n + 1
    buf[n, 0] = t
    buf[n, 1] = a
    buf[n, 2] = b
    buf[n, 3] = c
    buf[n, 4] = d
    buf[n, 5] = e
    return buf, n + 1
