"""The content-addressed artifact store on a directory.

Checks: bytes and files round-trip with their sha256 and size; the URI names the
sha256 under ``sha256/<2 hex>/``; a second put of the same content gives the same
reference and one file; a corrupt, missing or mismatched artifact raises the
matching error (and a corrupt one is a PoisonMessage); a put repairs a corrupt
copy; no temporary file is left behind; stored files are read-only; concurrent
puts of the same content from threads all succeed and leave one valid file;
``open_store`` accepts a path or a file:// URI and refuses unknown schemes (``s3://`` is
tested against a real server in tests/integration/storage/test_artifacts_s3.py).
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ringrift.errors import PoisonMessage
from ringrift.storage.artifacts import DirectoryArtifactStore, open_store
from ringrift.storage.errors import ArtifactCorrupt, ArtifactError, ArtifactNotFound


@pytest.fixture
def store(tmp_path: Path) -> DirectoryArtifactStore:
    return DirectoryArtifactStore(tmp_path / "artifacts")


def _corrupt(path: Path, data: bytes) -> None:
    path.chmod(0o644)
    path.write_bytes(data)


def test_bytes_round_trip(store: DirectoryArtifactStore) -> None:
    data = b"model weights" * 1000
    ref = store.put_bytes(data)

    expected = hashlib.sha256(data).hexdigest()
    assert ref.sha256 == expected
    assert ref.size == len(data)
    assert ref.uri == (store.root / "sha256" / expected[:2] / expected).as_uri()
    assert store.get_bytes(ref.uri, ref.sha256) == data
    assert store.local_path(ref.uri).read_bytes() == data


def test_file_round_trip_is_streamed_and_hashed(store: DirectoryArtifactStore,
                                                tmp_path: Path) -> None:
    source = tmp_path / "shard.npz"
    data = os.urandom(3 * (1 << 20) + 17)  # spans several copy chunks
    source.write_bytes(data)

    ref = store.put_file(source)

    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert ref.size == len(data)
    assert store.get_bytes(ref.uri, ref.sha256) == data


def test_put_is_idempotent(store: DirectoryArtifactStore) -> None:
    first = store.put_bytes(b"same")
    second = store.put_bytes(b"same")

    assert first == second
    assert [p for p in store.root.rglob("*") if p.is_file()] == [store.path_for(first.sha256)]


def test_stored_artifact_is_read_only_and_no_temporary_file_remains(
        store: DirectoryArtifactStore) -> None:
    ref = store.put_bytes(b"immutable")

    assert store.path_for(ref.sha256).stat().st_mode & 0o222 == 0
    assert list((store.root / "tmp").iterdir()) == []


def test_corrupt_artifact_is_detected(store: DirectoryArtifactStore) -> None:
    ref = store.put_bytes(b"good bytes")
    _corrupt(store.path_for(ref.sha256), b"bad bytes")

    with pytest.raises(ArtifactCorrupt, match="corrupt") as caught:
        store.get_bytes(ref.uri, ref.sha256)
    assert isinstance(caught.value, PoisonMessage)
    with pytest.raises(ArtifactCorrupt):
        store.local_path(ref.uri)


def test_truncated_artifact_is_detected(store: DirectoryArtifactStore) -> None:
    ref = store.put_bytes(b"0123456789")
    _corrupt(store.path_for(ref.sha256), b"01234")

    with pytest.raises(ArtifactCorrupt):
        store.get_bytes(ref.uri)


def test_put_repairs_a_corrupt_copy(store: DirectoryArtifactStore) -> None:
    ref = store.put_bytes(b"original")
    _corrupt(store.path_for(ref.sha256), b"rotten")

    assert store.put_bytes(b"original") == ref
    assert store.get_bytes(ref.uri, ref.sha256) == b"original"


def test_missing_artifact(store: DirectoryArtifactStore) -> None:
    ref = store.put_bytes(b"soon gone")
    store.path_for(ref.sha256).unlink()

    with pytest.raises(ArtifactNotFound, match="no artifact"):
        store.get_bytes(ref.uri, ref.sha256)
    with pytest.raises(ArtifactNotFound):
        store.local_path(ref.uri, ref.sha256)


def test_expected_sha256_must_match_the_address(store: DirectoryArtifactStore) -> None:
    ref = store.put_bytes(b"one")
    other = store.put_bytes(b"two")

    with pytest.raises(ArtifactCorrupt, match="disagree"):
        store.get_bytes(ref.uri, other.sha256)


@pytest.mark.parametrize("uri", ["s3://bucket/key", "file:///tmp/not-a-hash",
                                 "/plain/path/" + "a" * 64])
def test_malformed_uri(store: DirectoryArtifactStore, uri: str) -> None:
    with pytest.raises(ArtifactError, match="not an artifact URI"):
        store.get_bytes(uri)


def test_put_file_that_does_not_exist(store: DirectoryArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="cannot store"):
        store.put_file(tmp_path / "absent.bin")


def test_concurrent_puts_of_the_same_content(store: DirectoryArtifactStore) -> None:
    data = os.urandom(1 << 20)
    with ThreadPoolExecutor(max_workers=8) as pool:
        refs = list(pool.map(lambda _: store.put_bytes(data), range(16)))

    assert len(set(refs)) == 1
    assert store.get_bytes(refs[0].uri, refs[0].sha256) == data
    assert list((store.root / "tmp").iterdir()) == []


def test_open_store_accepts_a_path_or_file_uri(tmp_path: Path) -> None:
    by_path = open_store(tmp_path / "a")
    ref = by_path.put_bytes(b"x")

    by_uri = open_store((tmp_path / "a").as_uri())
    assert by_uri.get_bytes(ref.uri, ref.sha256) == b"x"
    with pytest.raises(ArtifactError, match="unsupported artifact store"):
        open_store("gs://bucket/prefix")
