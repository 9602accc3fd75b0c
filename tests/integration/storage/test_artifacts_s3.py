"""The artifact store in S3-compatible object storage, against a real server (versitygw).

Checks: bytes and files (single PUT and multipart) round-trip with their sha256, size and
``s3://`` address; a second put gives the same reference and one object; a put repairs a
damaged object; an object overwritten behind the store's back, or damaged on the server's
disk, is refused as ArtifactCorrupt (a PoisonMessage) by get_bytes and local_path; a missing
object, a mismatched sha256 and a malformed URI raise the matching error; local_path keeps a
verified copy and re-hashes it; an upload killed part-way (single PUT and multipart) leaves
no visible object; an unreachable server is an ArtifactStoreUnavailable (retryable) and a
missing bucket an ArtifactError naming it; open_store and store_for_uri select the S3 store
by URL; ``ringrift artifacts put/verify/get`` work on an ``s3://`` store.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ringrift.errors import PoisonMessage, RetryableError
from ringrift.localinfra.kafka import free_port
from ringrift.localinfra.s3server import LocalS3Server
from ringrift.storage.artifacts import open_store, store_for_uri
from ringrift.storage.artifacts_s3 import S3ArtifactStore
from ringrift.storage.errors import (
    ArtifactCorrupt,
    ArtifactError,
    ArtifactNotFound,
    ArtifactStoreUnavailable,
)
from tests.integration.storage.stalling_proxy import StallingProxy

CHILD = Path(__file__).with_name("s3_upload_child.py")
MIB = 1 << 20


def _keys(server: LocalS3Server, bucket: str) -> list[str]:
    listing = server.client().list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_bytes_round_trip(s3_store: S3ArtifactStore, s3_server: LocalS3Server) -> None:
    data = b"model weights" * 1000
    ref = s3_store.put_bytes(data)

    expected = hashlib.sha256(data).hexdigest()
    assert (ref.sha256, ref.size) == (expected, len(data))
    assert ref.uri == f"s3://{s3_store.bucket}/artifacts/sha256/{expected[:2]}/{expected}"
    assert s3_store.get_bytes(ref.uri, ref.sha256) == data
    assert s3_store.local_path(ref.uri).read_bytes() == data
    assert _keys(s3_server, s3_store.bucket) == [f"artifacts/sha256/{expected[:2]}/{expected}"]


@pytest.mark.parametrize("size", [3 * MIB + 17, 12 * MIB + 5], ids=["single-put", "multipart"])
def test_file_round_trip(s3_store: S3ArtifactStore, tmp_path: Path, size: int) -> None:
    source = tmp_path / "shard.npz"
    data = os.urandom(size)
    source.write_bytes(data)

    ref = s3_store.put_file(source)

    assert (ref.sha256, ref.size) == (hashlib.sha256(data).hexdigest(), size)
    assert s3_store.get_bytes(ref.uri, ref.sha256) == data
    assert s3_store.local_path(ref.uri, ref.sha256).read_bytes() == data


def test_put_is_idempotent(s3_store: S3ArtifactStore, s3_server: LocalS3Server) -> None:
    first = s3_store.put_bytes(b"same")
    second = s3_store.put_bytes(b"same")

    assert first == second
    assert len(_keys(s3_server, s3_store.bucket)) == 1


def _overwrite(server: LocalS3Server, store: S3ArtifactStore, sha256: str, data: bytes) -> None:
    """Replace the object's bytes through the S3 API, bypassing the store: the server's own
    checksums then match the wrong bytes, and only the store's sha256 check can tell."""
    server.client().put_object(Bucket=store.bucket, Key=store.key_for(sha256), Body=data)


def _damage_on_disk(server: LocalS3Server, store: S3ArtifactStore, sha256: str) -> None:
    path = server.buckets_dir / store.bucket / store.key_for(sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["overwritten", "disk"])
def test_corrupt_object_is_refused(s3_store: S3ArtifactStore, s3_server: LocalS3Server,
                                   tmp_path: Path, damage: str) -> None:
    ref = s3_store.put_bytes(b"good bytes" * 100)
    if damage == "overwritten":
        _overwrite(s3_server, s3_store, ref.sha256, b"bad bytes" * 100)
    else:
        _damage_on_disk(s3_server, s3_store, ref.sha256)

    with pytest.raises(ArtifactCorrupt, match="corrupt") as raised:
        s3_store.get_bytes(ref.uri, ref.sha256)
    assert isinstance(raised.value, PoisonMessage)
    with pytest.raises(ArtifactCorrupt):
        s3_store.local_path(ref.uri, ref.sha256)
    assert [path for path in (tmp_path / "cache").rglob("*") if path.is_file()] == []


def test_put_repairs_a_damaged_object(s3_store: S3ArtifactStore,
                                      s3_server: LocalS3Server) -> None:
    ref = s3_store.put_bytes(b"original")
    _overwrite(s3_server, s3_store, ref.sha256, b"damaged")

    assert s3_store.put_bytes(b"original") == ref
    assert s3_store.get_bytes(ref.uri) == b"original"


def test_local_copy_is_rehashed(s3_store: S3ArtifactStore, tmp_path: Path) -> None:
    ref = s3_store.put_bytes(b"weights")
    path = s3_store.local_path(ref.uri)
    path.chmod(0o644)
    path.write_bytes(b"tampered")

    with pytest.raises(ArtifactCorrupt):
        s3_store.local_path(ref.uri)


def test_missing_mismatched_and_malformed(s3_store: S3ArtifactStore) -> None:
    ref = s3_store.put_bytes(b"present")
    missing = ref.uri.replace(ref.sha256, "0" * 64)

    with pytest.raises(ArtifactNotFound) as raised:
        s3_store.get_bytes(missing)
    assert isinstance(raised.value, PoisonMessage)
    with pytest.raises(ArtifactNotFound):
        s3_store.local_path(missing)
    with pytest.raises(ArtifactCorrupt, match="disagree"):
        s3_store.get_bytes(ref.uri, "1" * 64)
    for uri in ("s3://bucket/not-a-hash", "s3:///sha256/00/" + "0" * 64, "file:///x"):
        with pytest.raises(ArtifactError, match="not an artifact URI"):
            s3_store.get_bytes(uri)


def _upload_in_child(s3_server: LocalS3Server, bucket: str, source: Path, threshold: int,
                     budget: int) -> None:
    """Start an upload through a proxy that stalls after ``budget`` bytes, then SIGKILL it."""
    with StallingProxy(s3_server.port, budget) as proxy:
        env = {**os.environ, **s3_server.client_env(), "AWS_ENDPOINT_URL_S3": proxy.endpoint_url}
        child = subprocess.Popen([sys.executable, str(CHILD), bucket, "artifacts", str(source),
                                  str(threshold)], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        try:
            assert proxy.stalled.wait(120), "the upload never reached the proxy's budget"
            assert child.poll() is None, child.communicate()
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    # Leaving the block dropped the held connections, as the killed client's would be.


@pytest.mark.parametrize("size,threshold,budget", [
    (4 * MIB, 64 * MIB, 2 * MIB),   # one PUT, killed half-way through its body
    (20 * MIB, 5 * MIB, 8 * MIB),   # multipart, killed after about one part of four
], ids=["single-put", "multipart"])
def test_interrupted_upload_leaves_no_visible_object(
        s3_env: dict[str, str], s3_server: LocalS3Server, s3_bucket: str, tmp_path: Path,
        size: int, threshold: int, budget: int) -> None:
    source = tmp_path / "model.pt"
    source.write_bytes(os.urandom(size))
    sha256 = hashlib.sha256(source.read_bytes()).hexdigest()

    _upload_in_child(s3_server, s3_bucket, source, threshold, budget)

    store = S3ArtifactStore(s3_bucket, "artifacts", cache_dir=tmp_path / "cache")
    assert _keys(s3_server, s3_bucket) == []
    with pytest.raises(ArtifactNotFound):
        store.get_bytes(f"s3://{s3_bucket}/{store.key_for(sha256)}")
    if threshold < size:  # the parts are held out of sight in an unfinished upload
        uploads = s3_server.client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
        assert [upload["Key"] for upload in uploads] == [store.key_for(sha256)]
    # A later put of the same file completes normally.
    assert store.put_file(source).sha256 == sha256
    assert store.get_bytes(f"s3://{s3_bucket}/{store.key_for(sha256)}") == source.read_bytes()


def test_unreachable_server_is_retryable(s3_env: dict[str, str], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")
    store = S3ArtifactStore("bucket", cache_dir=tmp_path / "cache")

    with pytest.raises(ArtifactStoreUnavailable, match="unreachable") as raised:
        store.put_bytes(b"x")
    assert isinstance(raised.value, RetryableError)


def test_missing_bucket_is_named(s3_env: dict[str, str], tmp_path: Path) -> None:
    store = S3ArtifactStore("no-such-bucket", cache_dir=tmp_path / "cache")

    with pytest.raises(ArtifactError, match="bucket 'no-such-bucket' does not exist"):
        store.put_bytes(b"x")


def test_selected_by_url(s3_env: dict[str, str], s3_bucket: str, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGRIFT_ARTIFACT_CACHE", str(tmp_path / "cache"))
    store = open_store(f"s3://{s3_bucket}/models/")
    assert isinstance(store, S3ArtifactStore)
    assert (store.bucket, store.prefix) == (s3_bucket, "models")

    ref = store.put_bytes(b"by url")
    assert store_for_uri(ref.uri).get_bytes(ref.uri, ref.sha256) == b"by url"
    with pytest.raises(ArtifactError, match="expected s3://bucket/prefix"):
        open_store("s3:///prefix-only")


def test_cli_on_an_s3_store(s3_env: dict[str, str], s3_bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(1000))
    env = dict(os.environ, RINGRIFT_ARTIFACT_CACHE=str(tmp_path / "cache"))
    ringrift = [sys.executable, "-m", "ringrift.cli.main", "artifacts"]

    put = subprocess.run([*ringrift, "put", str(source), "--artifact-dir",
                          f"s3://{s3_bucket}/cli"], env=env, capture_output=True, text=True,
                         check=True)
    uri, sha256, size = put.stdout.split()
    assert uri.startswith(f"s3://{s3_bucket}/cli/sha256/") and int(size) == 1000
    verify = subprocess.run([*ringrift, "verify", uri, "--sha256", sha256], env=env,
                            capture_output=True, text=True, check=True)
    assert verify.stdout.strip() == "ok 1000 bytes"
    subprocess.run([*ringrift, "get", uri, "-o", str(tmp_path / "copy")], env=env, check=True)
    assert (tmp_path / "copy").read_bytes() == source.read_bytes()
