-- A batch part's checks at a cost per item, not per shard (issue 18). 0033's write_lesson_progress_batch
-- joined the items to enrollments; with a few dozen items the planner hashed the whole table for it, a scan
-- that grows with the shard's enrollments. And it ran the completions' lock statement even for a batch with
-- no completion, every heartbeat batch. Measured on a bench shard (454 enrollments, 33 items, auto_explain):
-- the check 191 us a part, 98 us as one index lookup per item; the lock statement 19 us, now skipped.
--
-- Same signature, rules and results as 0033's: only how the checks find their rows changed.
CREATE OR REPLACE FUNCTION write_lesson_progress_batch(p_enrollment bigint[], p_lesson bigint[], p_watched integer[],
                                                       p_position integer[], p_completed boolean[])
RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    v_error text[];
BEGIN
    -- 0010's lock order, parent first: the enrollment of every completion, by ID so that concurrent batches
    -- take them in one order; the lesson rows are then written in (enrollment, lesson) order.
    IF true = ANY (p_completed) THEN
        PERFORM 1 FROM enrollments
         WHERE id IN (SELECT c.e FROM unnest(p_enrollment, p_completed) AS c(e, done) WHERE c.done)
         ORDER BY id FOR NO KEY UPDATE;
    END IF;
    -- Each item's enrollment and lesson by their keys. OFFSET 0 keeps the lookup per item: flattened into a
    -- join, it became a scan of all the shard's enrollments.
    SELECT array_agg(CASE WHEN e.state IS NULL THEN 'NOT_FOUND'
                          WHEN e.state = 'CANCELLED' THEN 'CANCELLED'
                          WHEN NOT e.has_lesson THEN 'NOT_A_LESSON' END ORDER BY i.n)
      INTO v_error
      FROM unnest(p_enrollment, p_lesson) WITH ORDINALITY AS i(enrollment_id, lesson_id, n)
      LEFT JOIN LATERAL (
            SELECT x.state, EXISTS (SELECT FROM course_lesson_refs r
                                     WHERE r.course_id = x.course_id AND r.lesson_id = i.lesson_id) AS has_lesson
              FROM enrollments x
             WHERE x.id = i.enrollment_id
            OFFSET 0) e ON true;
    -- Items for one lesson are merged in request order: ON CONFLICT may touch a row only once per statement.
    -- The completion trigger fires per completed row after the statement and recounts from the stored rows.
    INSERT INTO lesson_progress AS lp (enrollment_id, lesson_id, state, watched_seconds, last_position_seconds,
                                       completed_at)
    SELECT m.enrollment_id, m.lesson_id, CASE WHEN m.done THEN 'COMPLETED' ELSE 'IN_PROGRESS' END, m.watched,
           m.pos, CASE WHEN m.done THEN now() END
      FROM (SELECT i.enrollment_id, i.lesson_id, max(i.watched) AS watched,
                   (array_agg(i.pos ORDER BY i.n DESC))[1] AS pos, bool_or(i.done) AS done
              FROM unnest(p_enrollment, p_lesson, p_watched, p_position, p_completed, v_error)
                   WITH ORDINALITY AS i(enrollment_id, lesson_id, watched, pos, done, error, n)
             WHERE i.error IS NULL
             GROUP BY i.enrollment_id, i.lesson_id) m
     ORDER BY m.enrollment_id, m.lesson_id
    ON CONFLICT (enrollment_id, lesson_id) DO UPDATE
       SET watched_seconds = greatest(lp.watched_seconds, EXCLUDED.watched_seconds),
           last_position_seconds = EXCLUDED.last_position_seconds,
           state = CASE WHEN lp.state = 'COMPLETED' THEN 'COMPLETED' ELSE EXCLUDED.state END,
           completed_at = coalesce(lp.completed_at, EXCLUDED.completed_at);
    RETURN v_error;
END;
$$;
