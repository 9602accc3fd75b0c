"""The single-machine training loop (``ringrift loop``): self-play, train, evaluate, promote."""

from ringrift.loop.runner import run_loop
from ringrift.loop.settings import LoopSettings

__all__ = ["LoopSettings", "run_loop"]
