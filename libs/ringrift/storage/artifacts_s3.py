"""The content-addressed artifact store in S3-compatible object storage: ``s3://bucket/prefix``.

On a cluster whose nodes share no file system (or span providers), models and shards
live in a bucket instead of a ReadWriteMany volume. The guarantees are the directory
store's (:mod:`ringrift.storage.artifacts`):

* **Addressed by sha256**: ``s3://<bucket>/<prefix>/sha256/ab/<sha256>``. A put of the same
  bytes writes the same object again, so it is idempotent and repairs a damaged copy.
* **No visible partial object**: a single PUT becomes visible only once the server has
  the whole body; a multipart upload (files above :data:`MULTIPART_THRESHOLD`) only when
  it is completed. An interrupted upload leaves nothing under the key (an unfinished
  multipart upload holds parts out of sight; a bucket lifecycle rule
  ``AbortIncompleteMultipartUpload`` removes them).
* **Verified reads**: the bytes are hashed on every read and refused with
  :class:`ArtifactCorrupt` when they do not match the address. A single PUT also sends
  the content's sha256 as ``x-amz-checksum-sha256``, so the server refuses a body that
  arrives damaged.

Configuration is the AWS SDK's own: credentials from ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (or a profile, or the pod's IAM role), ``AWS_REGION``, and
``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``) for a server other than AWS. Buckets
behind a custom endpoint are addressed path-style (``http://host/bucket/key``), which
every S3-compatible server accepts; ``RINGRIFT_S3_ADDRESSING_STYLE`` (``path``,
``virtual``, ``auto``) overrides it. Readers that need a file (:meth:`local_path`) get
a verified copy in a local cache, ``RINGRIFT_ARTIFACT_CACHE`` (default
``var/artifact-cache``), itself a directory store.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ringrift.storage.artifacts import ArtifactRef, DirectoryArtifactStore, file_sha256
from ringrift.storage.errors import (
    ArtifactCorrupt,
    ArtifactError,
    ArtifactNotFound,
    ArtifactStoreUnavailable,
)

MULTIPART_THRESHOLD = 64 << 20
"""Files above this size go up in parts by default (a retry resends a part, not the file)."""
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})


class S3ArtifactStore:
    """An :class:`~ringrift.storage.artifacts.ArtifactStore` in an S3 bucket.

    Args:
        bucket: the bucket; it must exist.
        prefix: the key prefix the store's objects live under ('' for the bucket's root).
        client: a boto3 S3 client; by default one configured from the environment.
        cache_dir: where :meth:`local_path` keeps verified copies.
        multipart_threshold: files above this size are uploaded in parts of this size
            (at least 5 MiB, S3's smallest part).
    """

    def __init__(self, bucket: str, prefix: str = "", *, client: Any = None,
                 cache_dir: str | os.PathLike[str] | None = None,
                 multipart_threshold: int = MULTIPART_THRESHOLD) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.multipart_threshold = max(multipart_threshold, 5 << 20)
        self._client = client if client is not None else default_client()
        self._cache = DirectoryArtifactStore(
            cache_dir or os.environ.get("RINGRIFT_ARTIFACT_CACHE", "var/artifact-cache"))

    @classmethod
    def from_url(cls, url: str) -> S3ArtifactStore:
        """The store at ``s3://bucket/prefix``.

        Raises:
            ArtifactError: ``url`` names no bucket.
        """
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ArtifactError(f"not an S3 store URL: {url!r} (expected s3://bucket/prefix)")
        return cls(parsed.netloc, parsed.path)

    def key_for(self, sha256: str) -> str:
        return "/".join(part for part in (self.prefix, "sha256", sha256[:2], sha256) if part)

    def put_bytes(self, data: bytes) -> ArtifactRef:
        digest = hashlib.sha256(data)
        key = self.key_for(digest.hexdigest())
        with self._errors(f"s3://{self.bucket}/{key}"):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                    ChecksumSHA256=base64.b64encode(digest.digest()).decode())
        return ArtifactRef(f"s3://{self.bucket}/{key}", digest.hexdigest(), len(data))

    def put_file(self, path: str | os.PathLike[str]) -> ArtifactRef:
        # Hash first, so the key is known before the upload starts: no temporary object to
        # copy into place afterwards. The file is local, so reading it twice is cheap.
        try:
            sha256, size = file_sha256(path)
        except FileNotFoundError as error:
            raise ArtifactError(f"cannot store {path}: {error}") from None
        key = self.key_for(sha256)
        with self._errors(f"s3://{self.bucket}/{key}"):
            if size <= self.multipart_threshold:
                with open(path, "rb") as source:
                    self._client.put_object(
                        Bucket=self.bucket, Key=key, Body=source,
                        ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode())
            else:
                from boto3.s3.transfer import TransferConfig

                self._client.upload_file(
                    os.fspath(path), self.bucket, key, ExtraArgs={"ChecksumAlgorithm": "SHA256"},
                    Config=TransferConfig(multipart_threshold=self.multipart_threshold,
                                          multipart_chunksize=self.multipart_threshold))
        return ArtifactRef(f"s3://{self.bucket}/{key}", sha256, size)

    def get_bytes(self, uri: str, sha256: str | None = None) -> bytes:
        bucket, key, expected = parse_uri(uri, sha256)
        with self._errors(uri):
            data = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        _verify(uri, expected, hashlib.sha256(data).hexdigest())
        return data

    def local_path(self, uri: str, sha256: str | None = None) -> Path:
        bucket, key, expected = parse_uri(uri, sha256)
        cached = self._cache.path_for(expected)
        if cached.exists():
            return self._cache.local_path(cached.as_uri(), expected)  # re-hashed, as promised
        with self._errors(uri):
            # The directory store writes to a temporary file and renames it to the hash of
            # what arrived, so a download cut short leaves nothing under the expected name.
            ref = self._cache.put_stream(
                lambda out: self._client.download_fileobj(bucket, key, out))
        if ref.sha256 != expected:
            self._cache.path_for(ref.sha256).unlink(missing_ok=True)
            _verify(uri, expected, ref.sha256)
        return cached

    @contextmanager
    def _errors(self, uri: str) -> Iterator[None]:
        """Turn the SDK's errors into the store's: missing, unreachable, misconfigured."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            FlexibleChecksumError,
            NoCredentialsError,
        )

        try:
            yield
        except FlexibleChecksumError as error:
            # The SDK checked the bytes against the checksum the server stored at upload.
            raise ArtifactCorrupt(f"artifact {uri} is corrupt: {error}; put the original "
                                  "content again to repair it") from None
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND:
                raise ArtifactNotFound(f"no artifact at {uri}") from None
            if code == "NoSuchBucket":
                raise ArtifactError(f"bucket {self.bucket!r} does not exist; create it or fix "
                                    "the store URL (RINGRIFT_ARTIFACT_DIR)") from None
            if code.startswith("5") or code in ("SlowDown", "RequestTimeout", "ServiceUnavailable"):
                raise ArtifactStoreUnavailable(f"object store busy or failing for {uri}: "
                                               f"{error}") from error
            raise ArtifactError(f"object store refused {uri}: {error}") from None
        except NoCredentialsError:
            raise ArtifactError("no S3 credentials: set AWS_ACCESS_KEY_ID and "
                                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)") from None
        except BotoCoreError as error:
            raise ArtifactStoreUnavailable(f"object store unreachable for {uri}: {error}") from error


def default_client() -> Any:
    """A boto3 S3 client configured from the environment (see the module's docstring)."""
    import boto3
    from botocore.config import Config

    custom_endpoint = bool(os.environ.get("AWS_ENDPOINT_URL_S3") or
                           os.environ.get("AWS_ENDPOINT_URL"))
    style = os.environ.get("RINGRIFT_S3_ADDRESSING_STYLE", "path" if custom_endpoint else "auto")
    if style not in ("path", "virtual", "auto"):
        raise ArtifactError(f"RINGRIFT_S3_ADDRESSING_STYLE={style!r}; use path, virtual or auto")
    config = Config(s3={"addressing_style": style}, retries={"mode": "standard",
                                                             "max_attempts": 5})
    return boto3.session.Session().client("s3", config=config)


def parse_uri(uri: str, expected_sha256: str | None = None) -> tuple[str, str, str]:
    """The bucket, key and sha256 an ``s3://`` artifact URI names, checked against the event.

    Raises:
        ArtifactError: ``uri`` is not an S3 artifact URI.
        ArtifactCorrupt: ``expected_sha256`` is not the sha256 the URI is addressed by.
    """
    parsed = urlparse(uri)
    key = parsed.path.lstrip("/")
    name = key.rsplit("/", 1)[-1]
    if parsed.scheme != "s3" or not parsed.netloc or not _SHA256.fullmatch(name):
        raise ArtifactError(f"not an artifact URI: {uri!r} "
                            "(expected s3://bucket/prefix/sha256/ab/<sha256>)")
    if expected_sha256 is not None and expected_sha256 != name:
        raise ArtifactCorrupt(f"{uri} is addressed by {name}, but {expected_sha256} was "
                              "expected; the event and its artifact disagree")
    return parsed.netloc, key, name


def _verify(uri: str, expected: str, actual: str) -> None:
    if actual != expected:
        raise ArtifactCorrupt(f"artifact {uri} is corrupt: its bytes hash to {actual}; "
                              "put the original content again to repair it")
