-- BatchRecordLessonProgress (issue 18): a shard's part of a batch in one transaction, a few statements for
-- any number of items, with the rules of the single call (0010): watched time only grows, completed stays
-- completed, a completion locks its enrollment before it writes the lesson row.

-- The results of idempotent batches (one row per batch and shard), returned again on a replay.
CREATE TABLE batch_results (
    method       text        NOT NULL,
    request_id   text        NOT NULL CHECK (length(request_id) BETWEEN 1 AND 128),
    request_hash bytea       NOT NULL,
    results      jsonb       NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, request_id)
);
CREATE INDEX batch_results_created_at_idx ON batch_results (created_at);

-- One item's outcome: `error` NULL and the lesson's and enrollment's rows, or why it was not recorded
-- (NOT_FOUND: no such enrollment, CANCELLED, NOT_A_LESSON: not a lesson of the enrolled course).
CREATE TYPE progress_batch_result AS (
    item_index integer, error text,
    enrollment_id bigint, lesson_id bigint, progress_state text, watched_seconds integer,
    last_position_seconds integer, progress_updated_at timestamptz, progress_completed_at timestamptz,
    id bigint, student_id bigint, course_id bigint, region text, state text, payment_state text,
    progress_percent float8, course_title text, course_price numeric, course_currency char(3),
    enrolled_at timestamptz, completed_at timestamptz, cancelled_at timestamptz, cancel_reason text,
    updated_at timestamptz);

-- Each item's outcome after the writes: the lesson's and enrollment's rows, or its error code.
CREATE FUNCTION batch_progress_rows(p_index integer[], p_enrollment bigint[], p_lesson bigint[], p_error text[])
RETURNS SETOF progress_batch_result
LANGUAGE sql STABLE AS $$
    SELECT i.idx, i.error, lp.enrollment_id, lp.lesson_id, lp.state, lp.watched_seconds, lp.last_position_seconds,
           lp.updated_at, lp.completed_at, e.id, e.student_id, e.course_id, e.region, e.state, e.payment_state,
           e.progress_percent::float8, e.course_title, e.course_price, e.course_currency, e.enrolled_at,
           e.completed_at, e.cancelled_at, e.cancel_reason, e.updated_at
      FROM unnest(p_index, p_enrollment, p_lesson, p_error) AS i(idx, enrollment_id, lesson_id, error)
      LEFT JOIN lesson_progress lp
             ON i.error IS NULL AND lp.enrollment_id = i.enrollment_id AND lp.lesson_id = i.lesson_id
      LEFT JOIN enrollments e ON i.error IS NULL AND e.id = i.enrollment_id
     ORDER BY i.idx
$$;

-- Runs inside the caller's transaction (which has claimed p_request_id in batch_results when it is not
-- empty). The results go through jsonb whether new or replayed, so a replay returns exactly the same values.
CREATE FUNCTION record_lesson_progress_batch(p_request_id text, p_index integer[], p_enrollment bigint[],
                                             p_lesson bigint[], p_watched integer[], p_position integer[],
                                             p_completed boolean[])
RETURNS SETOF progress_batch_result
LANGUAGE plpgsql AS $$
DECLARE
    v_error   text[];
    v_results jsonb;
BEGIN
    -- 0010's lock order, parent first: the enrollment of every completion, by ID so that concurrent batches
    -- take them in one order; the lesson rows are then written in (enrollment, lesson) order.
    PERFORM 1 FROM enrollments
     WHERE id IN (SELECT c.e FROM unnest(p_enrollment, p_completed) AS c(e, done) WHERE c.done)
     ORDER BY id FOR NO KEY UPDATE;
    SELECT array_agg(CASE WHEN e.id IS NULL THEN 'NOT_FOUND'
                          WHEN e.state = 'CANCELLED' THEN 'CANCELLED'
                          WHEN r.lesson_id IS NULL THEN 'NOT_A_LESSON' END ORDER BY i.n)
      INTO v_error
      FROM unnest(p_enrollment, p_lesson) WITH ORDINALITY AS i(enrollment_id, lesson_id, n)
      LEFT JOIN enrollments e ON e.id = i.enrollment_id
      LEFT JOIN course_lesson_refs r ON r.course_id = e.course_id AND r.lesson_id = i.lesson_id;
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
    -- A statement of its own, so it sees what the completion triggers wrote. An idempotent batch keeps its
    -- results as jsonb and returns them through the same conversion a replay uses, so both return the same.
    IF p_request_id = '' THEN
        RETURN QUERY SELECT * FROM batch_progress_rows(p_index, p_enrollment, p_lesson, v_error);
        RETURN;
    END IF;
    SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.item_index), '[]') INTO v_results
      FROM batch_progress_rows(p_index, p_enrollment, p_lesson, v_error) x;
    UPDATE batch_results SET results = v_results
     WHERE method = 'enrollments.BatchRecordLessonProgress' AND request_id = p_request_id;
    RETURN QUERY SELECT * FROM jsonb_populate_recordset(NULL::progress_batch_result, v_results);
END;
$$;
