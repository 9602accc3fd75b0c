"""``atomic_write``: the target holds the old content or the new one, never a partial file.

Checks: a finished block replaces the file (creating its directory); a block that raises
leaves the old content and no temporary file behind.
"""

import pytest

from ringrift.storage.atomic import atomic_write


def test_a_finished_block_replaces_the_file(tmp_path):
    target = tmp_path / "deeper" / "state.json"
    with atomic_write(target) as stream:
        stream.write(b"first")
    with atomic_write(target) as stream:
        stream.write(b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_a_failed_block_leaves_the_old_content(tmp_path):
    target = tmp_path / "model.pt"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as stream:
        stream.write(b"half of the new")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
