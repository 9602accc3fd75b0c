"""The one numba decorator of the rules engine, and its cache hygiene.

Every hot kernel is compiled with ``@njit`` (nopython, ``cache=True`` so compiled
code is reused across processes). Set ``NUMBA_DISABLE_JIT=1`` to run the same code
as plain Python when debugging.

Numba invalidates a cached function only when *its own* file changes, not when a
kernel it calls (or a constant it reads) changes in another module. Kernels here
call across modules, so at import we fingerprint the kernel modules of this
package and drop the package's numba cache files when the fingerprint differs
from the one they were built with.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numba

_PACKAGE_DIR = Path(__file__).resolve().parent
_CACHE_DIR = _PACKAGE_DIR / "__pycache__"
_STAMP = _CACHE_DIR / "numba-sources.sha256"


# The modules holding compiled kernels or constants they read (others never affect them).
_KERNEL_MODULES = ("codes", "stacks", "moves_buffer", "movement", "capture", "placement",
                   "lines", "territory", "recovery", "victory", "phases")


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for name in _KERNEL_MODULES:
        path = _PACKAGE_DIR / f"{name}.py"
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _drop_stale_cache() -> None:
    """Delete this package's numba cache files if any engine source changed since."""
    try:
        current = _sources_digest()
        if _STAMP.exists() and _STAMP.read_text() == current:
            return
        _CACHE_DIR.mkdir(exist_ok=True)
        for pattern in ("*.nbi", "*.nbc"):
            for path in _CACHE_DIR.glob(pattern):
                path.unlink(missing_ok=True)
        _STAMP.write_text(current)
    except OSError:
        # A read-only install cannot hold a cache anyway; numba then compiles in memory.
        pass


_drop_stale_cache()

njit = numba.njit(cache=True, nogil=True)
