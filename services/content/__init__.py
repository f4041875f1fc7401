"""The content service: course videos and documents in the course's shard database, user preferences in the
user's, on MongoDB."""
