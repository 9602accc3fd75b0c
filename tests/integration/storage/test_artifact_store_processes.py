"""The artifact store shared by several processes, as services share a volume.

Checks: processes that put the same content at the same time all get the same
reference, while a reader in the test process never sees a partial or corrupt
artifact, and no temporary file is left; an artifact written by one process is
read and verified by another.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from pathlib import Path

from ringrift.storage.artifacts import ArtifactRef, DirectoryArtifactStore
from ringrift.storage.errors import ArtifactNotFound


def test_concurrent_puts_from_processes(tmp_path: Path) -> None:
    store = DirectoryArtifactStore(tmp_path / "artifacts")
    data = os.urandom(4 << 20)
    sha256 = hashlib.sha256(data).hexdigest()
    uri = store.path_for(sha256).as_uri()

    with multiprocessing.get_context("spawn").Pool(4) as pool:
        # A bound method pickles as the store (its root) plus the method's name.
        pending = pool.map_async(store.put_bytes, [data] * 20, chunksize=1)
        while not pending.ready():
            try:
                assert store.get_bytes(uri, sha256) == data
            except ArtifactNotFound:
                pass  # not written yet; a partial file would have raised ArtifactCorrupt
        refs = set(pending.get(timeout=120))

    assert refs == {ArtifactRef(uri, sha256, len(data))}
    assert list((store.root / "tmp").iterdir()) == []
    assert store.get_bytes(uri, sha256) == data


def test_written_by_one_process_read_by_another(tmp_path: Path) -> None:
    store = DirectoryArtifactStore(tmp_path / "artifacts")
    ref = store.put_bytes(b"weights of generation 7")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(store.get_bytes, (ref.uri, ref.sha256)) == b"weights of generation 7"
