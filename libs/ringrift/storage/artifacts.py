"""Content-addressed artifact store: model weights and training shards, by sha256.

Big things never ride on the event bus; events carry an artifact's URI and
sha256 instead. An artifact's address is the sha256 of its bytes, so a put of
the same content twice stores it once, and a reader can always check that it got
what the event promised. Writes go to a temporary file in the store and are
renamed into place, so a reader never sees half an artifact and a crash leaves
at worst a stray temporary file.

Two stores share the interface (:class:`ArtifactStore`), chosen by the location's
URL (:func:`open_store`): a directory (a Docker volume, a shared disk, a ReadWriteMany
volume; the default), laid out as ``<root>/sha256/<first two hex digits>/<sha256>`` and
addressed by ``file://<root>/sha256/ab/abcdef...``; and S3-compatible object storage,
``s3://bucket/prefix`` (:mod:`ringrift.storage.artifacts_s3`), for nodes that share no
file system.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlparse

from ringrift.storage.errors import ArtifactCorrupt, ArtifactError, ArtifactNotFound

_CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ArtifactRef:
    """Where an artifact is and what it must hash to; what events carry."""

    uri: str
    sha256: str
    size: int


class ArtifactStore(Protocol):
    """What every artifact store offers: :class:`DirectoryArtifactStore`, ``S3ArtifactStore``."""

    def put_bytes(self, data: bytes) -> ArtifactRef:
        """Store ``data``; the same bytes always give the same reference."""
        ...

    def put_file(self, path: str | os.PathLike[str]) -> ArtifactRef:
        """Store a file's contents, streamed (shards and weights can be large)."""
        ...

    def get_bytes(self, uri: str, sha256: str | None = None) -> bytes:
        """The artifact's bytes, checked against its sha256.

        Args:
            uri: the artifact's address, as an event carries it.
            sha256: the hash the event promised; None trusts the one in the URI.

        Raises:
            ArtifactNotFound: nothing is stored at ``uri``.
            ArtifactCorrupt: the bytes, or the promised sha256, do not match the address.
            ArtifactError: ``uri`` is not an artifact URI of this store's kind.
        """
        ...

    def local_path(self, uri: str, sha256: str | None = None) -> Path:
        """A local file holding the artifact, checked like :meth:`get_bytes` (it is read
        once to hash it), for readers that want a path (``torch.load``, memory maps)."""
        ...


class DirectoryArtifactStore:
    """An :class:`ArtifactStore` on a local or mounted directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()

    def path_for(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def put_bytes(self, data: bytes) -> ArtifactRef:
        return self.put_stream(lambda out: out.write(data))

    def put_file(self, path: str | os.PathLike[str]) -> ArtifactRef:
        try:
            with open(path, "rb") as source:
                return self.put_stream(lambda out: shutil.copyfileobj(source, out, _CHUNK))
        except FileNotFoundError as error:
            raise ArtifactError(f"cannot store {path}: {error}") from None

    def get_bytes(self, uri: str, sha256: str | None = None) -> bytes:
        path = _parse_uri(uri, sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ArtifactNotFound(f"no artifact at {uri}") from None
        _verify(path, hashlib.sha256(data).hexdigest())
        return data

    def local_path(self, uri: str, sha256: str | None = None) -> Path:
        path = _parse_uri(uri, sha256)
        try:
            actual, _ = file_sha256(path)
        except FileNotFoundError:
            raise ArtifactNotFound(f"no artifact at {uri}") from None
        _verify(path, actual)
        return path

    def put_stream(self, write: _Writer) -> ArtifactRef:
        """Store what ``write(out)`` writes to the binary file ``out`` it is given.

        For content that arrives in pieces (a download): it is stored under the hash of
        what was written, and nothing is stored if ``write`` raises.
        """
        # Hash while writing to a temporary file in the store (same file system, so the
        # rename is atomic), then rename it to the name its hash gives. Putting content
        # that is already stored renames identical bytes over it: idempotent, safe under
        # concurrent puts (each writer has its own temporary file), and it repairs a
        # corrupt copy. Readers never see a partial file.
        scratch = self.root / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=scratch, suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as raw:
                out = _HashingWriter(raw)
                write(out)
                raw.flush()
                os.fsync(raw.fileno())
            sha256 = out.digest.hexdigest()
            final = self.path_for(sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temporary, 0o444)  # artifacts are immutable
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(final.parent)
        return ArtifactRef(final.as_uri(), sha256, out.size)


class _HashingWriter:
    """A binary writer that hashes and counts what passes through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)


class _Writer(Protocol):
    def __call__(self, out: _HashingWriter, /) -> object: ...


def open_store(location: str | os.PathLike[str]) -> ArtifactStore:
    """The store at ``location``: a directory path, a ``file://`` URI or ``s3://bucket/prefix``.

    Raises:
        ArtifactError: the location names a kind of storage this build does not know.
    """
    text = os.fspath(location)
    scheme = urlparse(text).scheme
    if scheme == "file":
        return DirectoryArtifactStore(unquote(urlparse(text).path))
    if scheme == "":
        return DirectoryArtifactStore(text)
    if scheme == "s3":
        from ringrift.storage.artifacts_s3 import S3ArtifactStore  # boto3 only when used

        return S3ArtifactStore.from_url(text)
    raise ArtifactError(f"unsupported artifact store {text!r}; use a directory, a file:// URI "
                        "or s3://bucket/prefix")


def store_for_uri(uri: str) -> ArtifactStore:
    """A store that can read the artifact ``uri`` names (a reader needs no store location:
    a ``file://`` URI names its file, an ``s3://`` URI its bucket and key).

    Raises:
        ArtifactError: ``uri`` is not an artifact URI of a known kind.
    """
    scheme = urlparse(uri).scheme
    if scheme == "file":
        return DirectoryArtifactStore("/")
    if scheme == "s3":
        from ringrift.storage.artifacts_s3 import S3ArtifactStore

        return S3ArtifactStore(urlparse(uri).netloc)
    raise ArtifactError(f"not an artifact URI: {uri!r} (expected file://... or s3://...)")


def file_sha256(path: str | os.PathLike[str]) -> tuple[str, int]:
    """The sha256 (hex) and size in bytes of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _parse_uri(uri: str, expected_sha256: str | None) -> Path:
    """The file an artifact URI names, after checking it is the artifact expected."""
    parsed = urlparse(uri)
    path = Path(unquote(parsed.path))
    if parsed.scheme != "file" or not _SHA256.fullmatch(path.name):
        raise ArtifactError(f"not an artifact URI: {uri!r} (expected file://.../sha256/ab/<sha256>)")
    if expected_sha256 is not None and expected_sha256 != path.name:
        raise ArtifactCorrupt(f"{uri} is addressed by {path.name}, but {expected_sha256} was "
                              "expected; the event and its artifact disagree")
    return path


def _verify(path: Path, actual_sha256: str) -> None:
    if path.name != actual_sha256:
        raise ArtifactCorrupt(f"artifact {path.as_uri()} is corrupt: its bytes hash to {actual_sha256}; "
                              "put the original content again to repair it")


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable, not only the file's bytes.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
