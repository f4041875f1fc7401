"""The enrollments service: enrollments and lesson progress on the student's shard, the course checked
through the courses service and snapshotted at enrollment."""
