"""Sharded scoring runs (the ray engine): the input cut into blocks, one shard per block, a manifest."""
