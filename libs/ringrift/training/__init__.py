"""Training: shards of self-play samples, value targets, and the trainer."""

from ringrift.training.shards import Sample, ShardData, ShardMetadata, read_shard, write_shard
from ringrift.training.targets import ranking_to_values, values_for_mover, values_to_absolute

__all__ = ["Sample", "ShardData", "ShardMetadata", "ranking_to_values", "read_shard",
           "values_for_mover", "values_to_absolute", "write_shard"]
