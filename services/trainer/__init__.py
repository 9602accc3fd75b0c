"""The trainer service: shards in, candidates out, each run started by the shard that completes its data."""
