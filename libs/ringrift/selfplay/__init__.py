"""Self-play: games played with search in lockstep, turned into training samples and records."""

from ringrift.selfplay.play import (
    Decision,
    SelfPlayBatch,
    SelfPlayGame,
    SelfPlaySettings,
    game_task,
    play_games,
)

__all__ = ["Decision", "SelfPlayBatch", "SelfPlayGame", "SelfPlaySettings", "game_task",
           "play_games"]
