"""Write a file so that readers see the old content or the new, never a partial file.

Checkpoints, shards and the loop's state are all read by processes that may run while
they are being rewritten, and a writer may be killed at any point. Writing to a
temporary file in the same directory, syncing it and renaming it over the target makes
the replacement atomic on POSIX file systems. (The artifact store does the same, but
names its file after the content's hash, known only once written.)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` when the block ends without an error.

    The directory is created if missing. On an error the temporary file is removed and
    ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            yield temp
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
