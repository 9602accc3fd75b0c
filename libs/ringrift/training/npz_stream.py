"""One array of an ``.npz`` archive read as a stream, a run of rows at a time.

``np.load`` of an ``.npz`` decompresses a whole array on first access; a shard's planes can be
hundreds of megabytes. Reading the ``.npy`` header of the zip member and then only as many
bytes as the rows asked for keeps memory bounded by the caller's chunk. Used by
:class:`ringrift.training.shards.ShardReader` only (the one reader of shards).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO

import numpy as np


class NpyFormatError(ValueError):
    """A member's ``.npy`` header is of a version or layout this reader does not take."""


@dataclass
class ArrayStream:
    """An array of the archive positioned after its header.

    ``shape`` and ``dtype`` are those of the header; :meth:`read` returns rows converted
    to ``target``.
    """

    fp: IO[bytes]
    shape: tuple[int, ...]
    dtype: np.dtype
    target: np.dtype

    def read(self, rows: int) -> np.ndarray:
        """The next ``rows`` rows (elements, for a 1-D array).

        Raises:
            EOFError: the member ends before them.
            zipfile.BadZipFile, zlib.error, OSError: the archive is damaged.
        """
        out = np.empty((rows, *self.shape[1:]), dtype=self.dtype)
        buffer = memoryview(out.reshape(-1).view(np.uint8))
        got = 0
        while got < len(buffer):
            chunk = self.fp.readinto(buffer[got:])  # type: ignore[attr-defined]
            if not chunk:
                raise EOFError(f"array ends after {got} of {len(buffer)} bytes")
            got += chunk
        return out.astype(self.target, copy=False)

    def at_end(self) -> bool:
        """True if nothing follows the rows read (reading to the end checks the zip's CRC)."""
        return not self.fp.read(1)


def open_array(archive: zipfile.ZipFile, name: str, target: np.dtype | None = None) -> ArrayStream:
    """Open member ``<name>.npy`` and read its header.

    Args:
        archive: the open ``.npz``.
        name: the array's name (the member without ``.npy``).
        target: the dtype :meth:`ArrayStream.read` converts to (None: the stored one); a
            stored dtype that is not numeric, or integer where a float is wanted or the
            reverse, is refused.

    Raises:
        KeyError: no such array.
        NpyFormatError: a header version other than 1.0/2.0, a Fortran-ordered array or a
            dtype that does not convert to ``target``.
    """
    fp = archive.open(f"{name}.npy")
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        fp.close()
        raise NpyFormatError(f"array {name} has .npy version {version}")
    wanted = dtype if target is None else target
    if fortran or dtype.kind not in "fiub" or (dtype.kind == "f") != (wanted.kind == "f"):
        fp.close()
        raise NpyFormatError(f"array {name} is Fortran-ordered or of dtype {dtype}, "
                             f"expected {wanted}")
    return ArrayStream(fp, tuple(shape), dtype, wanted)
