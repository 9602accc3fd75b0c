"""``ringrift match``: a checkpoint plays a baseline and the result prints with its interval.

Checks: the board and player count come from the checkpoint; the summary line counts every
game; a missing checkpoint or a bad game count is a one-line error, not a traceback.
"""

import re

import pytest

from ringrift.cli.main import main
from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.models import build_model, save_checkpoint


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, build_model(GameConfig("hex8", 2), "tiny"),
                    encoder_version=ENCODER_VERSION)
    return path


@pytest.mark.parametrize("extra", [["--policy-only"], ["--simulations", "2"]])
def test_match_prints_a_score_with_its_interval(checkpoint, capsys, extra):
    assert main(["match", str(checkpoint), "--games", "2", *extra]) == 0
    line = capsys.readouterr().out.strip()
    match = re.fullmatch(r"hex8_2p: model (policy|search) vs random: (\d+)-(\d+)-(\d+) \(W-D-L\), "
                         r"score [01]\.\d{3} \[[01]\.\d{3}, [01]\.\d{3}\] over 2 games", line)
    assert match, line
    assert sum(int(n) for n in match.groups()[1:]) == 2


def test_match_errors_are_one_line(tmp_path, checkpoint, capsys):
    assert main(["match", str(tmp_path / "missing.pt")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ringrift match: error:") and err.count("\n") == 1
    assert main(["match", str(checkpoint), "--games", "0"]) == 2
    assert "--games must be at least 1" in capsys.readouterr().err
