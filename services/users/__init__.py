"""The users service: accounts and profiles on the user's home shard, emails unique across all shards."""
