"""The evaluator service: candidates against the current model under a sequential gate, and ratings from the match log."""
