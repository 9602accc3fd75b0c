"""A growable buffer of engine move rows (``codes.MOVE_WIDTH`` int32 each).

Generators append with ``buf, n = push(buf, n, ...)``; the buffer doubles when
full, so no generator needs to know the move count in advance.
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
    """Append the row ``[t, a, b, c, d, e]`` at index ``n``; returns ``(buf, n + 1)``."""
    if n >= buf.shape[0]:
        grown = np.empty((buf.shape[0] * 2, MOVE_WIDTH), dtype=np.int32)
        grown[:n] = buf[:n]
        buf = grown
    buf[n, 0] = t
    buf[n, 1] = a
    buf[n, 2] = b
    buf[n, 3] = c
    buf[n, 4] = d
    buf[n, 5] = e
    return buf, n + 1
