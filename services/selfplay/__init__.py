"""The selfplay service: games in a rolling lockstep pool, each finished game published once."""
