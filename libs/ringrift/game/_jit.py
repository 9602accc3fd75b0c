"""The one numba decorator of the rules engine.

Every hot kernel is compiled with ``@njit`` (nopython, ``cache=True`` so the
compiled code is reused across processes). Set ``NUMBA_DISABLE_JIT=1`` to run the
same code as plain Python when debugging.
"""

from __future__ import annotations

import numba

njit = numba.njit(cache=True, nogil=True)
