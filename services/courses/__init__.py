"""The courses service: the category tree (on every shard), courses with their outline on the instructor's
shard, reviews on the course's shard, and a catalogue listed across all shards."""
