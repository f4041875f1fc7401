-- Heartbeats update lesson rows in place (watched time, position, updated_at: no indexed column changes), the
-- platform's most frequent write and a batch's bulk. With full pages (fillfactor 100) most such updates had
-- to put the new row version on another page and add a primary-key entry for it (63% of them on a bench
-- shard); room left on each page lets them be HOT updates: same page, no index entry, less WAL to ship to
-- the synchronous standby. Pages written from now on keep the room; older ones gain it as vacuum frees space.
ALTER TABLE lesson_progress SET (fillfactor = 70);
