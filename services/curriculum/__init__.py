"""The curriculum: self-play weights per config from the ratings of the evaluations."""
