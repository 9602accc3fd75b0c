"""A real S3-compatible server on loopback, for the object-store tests: versitygw.

The Versity S3 Gateway (Apache-2.0) serves the S3 API over a local directory (its
``posix`` backend: a bucket is a directory, an object a file, metadata in extended
attributes). It is built once from its Go module (:data:`ringrift.localinfra.gotools.VERSITYGW`)
and cached. :class:`LocalS3Server` starts one with fresh credentials on a free port and
stops it on exit; :meth:`LocalS3Server.client_env` is the environment that points the
AWS SDK (and so :class:`~ringrift.storage.artifacts_s3.S3ArtifactStore`) at it.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from ringrift.localinfra import gotools
from ringrift.localinfra.process import Launcher, ServerProcess, free_port

REGION = "us-east-1"


class LocalS3Server(Launcher):
    """versitygw over ``data_dir`` on ``127.0.0.1``; a context manager.

    Args:
        data_dir: the buckets live in ``data_dir/buckets``; the log is ``data_dir/s3.log``.
        port: the S3 port; a free one when ``None``.
        start_timeout: seconds to wait for the port to open.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None,
                 start_timeout: float = 60.0) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.start_timeout = start_timeout
        self.access_key = "ringrift-" + secrets.token_hex(4)
        self.secret_key = secrets.token_hex(20)
        self.server = ServerProcess("versitygw", self.data_dir / "s3.log")

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def buckets_dir(self) -> Path:
        return self.data_dir / "buckets"

    def client_env(self) -> dict[str, str]:
        """The AWS SDK's environment variables for this server."""
        return {"AWS_ENDPOINT_URL_S3": self.endpoint_url, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_REGION": REGION}

    def client(self, endpoint_url: str | None = None) -> Any:
        """A boto3 S3 client for this server (or for a proxy in front of it)."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or self.endpoint_url, region_name=REGION,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}))

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def start(self) -> str:
        """Build versitygw if needed, start it, wait until it accepts connections.

        Returns:
            The endpoint URL.

        Raises:
            ServerStartError: it exited or did not open its port in time.
        """
        binary = gotools.install(gotools.VERSITYGW)
        self.buckets_dir.mkdir(parents=True, exist_ok=True)
        self.server.start(
            [str(binary), "--port", f"127.0.0.1:{self.port}", "--access", self.access_key,
             "--secret", self.secret_key, "--region", REGION, "--quiet", "posix",
             str(self.buckets_dir)], port=self.port, timeout=self.start_timeout)
        return self.endpoint_url

    def stop(self) -> None:
        self.server.stop()
