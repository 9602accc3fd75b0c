"""``ringrift artifacts``: put, verify and get through the command's handler.

Checks: put prints the URI, sha256 and size of the stored file, under
``--artifact-dir``; verify accepts an intact artifact and raises ArtifactCorrupt
for a changed one or for a sha256 that disagrees with the URI; get writes the
checked bytes to ``--output``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ringrift.cli.main import build_parser
from ringrift.storage.errors import ArtifactCorrupt


def _ringrift(*argv: str) -> int:
    # The handler itself, not main(): main() would reconfigure logging under pytest.
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_put_verify_get(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "model.pt"
    source.write_bytes(b"weights")
    store = tmp_path / "store"

    assert _ringrift("artifacts", "put", str(source), "--artifact-dir", str(store)) == 0
    uri, sha256, size = capsys.readouterr().out.split()
    assert sha256 == hashlib.sha256(b"weights").hexdigest()
    assert size == "7"
    assert uri.startswith(store.as_uri() + "/sha256/")

    assert _ringrift("artifacts", "verify", uri, "--sha256", sha256) == 0
    assert capsys.readouterr().out.strip() == "ok 7 bytes"
    out = tmp_path / "copy.pt"
    assert _ringrift("artifacts", "get", uri, "-o", str(out)) == 0
    assert out.read_bytes() == b"weights"

    with pytest.raises(ArtifactCorrupt, match="disagree"):
        _ringrift("artifacts", "verify", uri, "--sha256", "0" * 64)
    stored = Path(uri.removeprefix("file://"))
    stored.chmod(0o644)
    stored.write_bytes(b"tampered")
    with pytest.raises(ArtifactCorrupt, match="corrupt"):
        _ringrift("artifacts", "verify", uri)
