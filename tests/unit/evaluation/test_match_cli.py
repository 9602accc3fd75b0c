"""``ringrift match``: a checkpoint plays a baseline and the result prints with its intervals.

Checks: the board and player count come from the checkpoint; the summary line counts every
game, with score and Elo intervals, and for 2 players the pentanomial counts of the pairs;
``--sprt`` plays the gate's test and prints its decision; a missing checkpoint or a bad game
count is a one-line error, not a traceback.
"""

import re

import pytest

from ringrift.cli.main import main
from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.models import build_model, save_checkpoint

SUMMARY = (r"(\d+)-(\d+)-(\d+) \(W-D-L\), score [01]\.\d{3} \[[01]\.\d{3}, [01]\.\d{3}\] "
           r"over (\d+) games, Elo [+-]\d+ \[[+-]\d+, [+-]\d+\]")


def checkpoint(tmp_path, players):
    path = tmp_path / f"model{players}.pt"
    save_checkpoint(path, build_model(GameConfig("hex8", players), "tiny"),
                    encoder_version=ENCODER_VERSION)
    return path


@pytest.mark.parametrize("extra", [["--policy-only"], ["--simulations", "2"]])
def test_match_prints_a_score_with_its_interval(tmp_path, capsys, extra):
    assert main(["match", str(checkpoint(tmp_path, 2)), "--games", "4", *extra]) == 0
    line = capsys.readouterr().out.strip()
    match = re.fullmatch(r"hex8_2p: model (policy|search) vs random: " + SUMMARY
                         + r", pairs LL (\d+) LD (\d+) DD\+WL (\d+) WD (\d+) WW (\d+)", line)
    assert match, line
    wins, draws, losses, games = (int(n) for n in match.groups()[1:5])
    assert wins + draws + losses == games == 4
    assert sum(int(n) for n in match.groups()[5:]) == 2


def test_three_players_and_the_sprt(tmp_path, capsys):
    assert main(["match", str(checkpoint(tmp_path, 3)), "--games", "2", "--policy-only"]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(r"hex8_3p: model policy vs random: " + SUMMARY, line), line
    assert "over 3 games" in line  # rounded up to a whole round

    assert main(["match", str(checkpoint(tmp_path, 2)), "--games", "4", "--policy-only",
                 "--sprt"]) == 0
    summary, decision = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"hex8_2p: model policy vs random: " + SUMMARY + r", pairs .*", summary)
    assert re.match(r"hex8_2p: model policy vs random: sprt (pass|fail|inconclusive): LLR ",
                    decision), decision


def test_match_errors_are_one_line(tmp_path, capsys):
    assert main(["match", str(tmp_path / "missing.pt")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ringrift match: error:") and err.count("\n") == 1
    assert main(["match", str(checkpoint(tmp_path, 2)), "--games", "0"]) == 2
    assert "--games must be at least 1" in capsys.readouterr().err
