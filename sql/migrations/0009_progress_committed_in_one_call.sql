-- RecordLessonProgress in one round trip, token included: a procedure that records the progress, reads
-- back the rows the service returns, COMMITs, and returns the WAL insert position after its commit (the
-- session token a reader of this write needs). CALLed outside a transaction block, so its COMMIT is allowed.
-- The common case, progress on a lesson already started, is a single UPDATE joined to its enrollment (which
-- must not be cancelled); a first record, or a refusal, goes through record_lesson_progress, which checks
-- the enrollment and the lesson and raises the precise error.
CREATE PROCEDURE record_lesson_progress_committed(
    p_enrollment_id bigint, p_lesson_id bigint, p_watched integer, p_position integer, p_completed boolean,
    OUT enrollment_id bigint, OUT lesson_id bigint, OUT progress_state text, OUT watched_seconds integer,
    OUT last_position_seconds integer, OUT progress_updated_at timestamptz, OUT progress_completed_at timestamptz,
    OUT id bigint, OUT student_id bigint, OUT course_id bigint, OUT region text, OUT state text,
    OUT payment_state text, OUT progress_percent float8, OUT course_title text, OUT course_price numeric,
    OUT course_currency char(3), OUT enrolled_at timestamptz, OUT completed_at timestamptz,
    OUT cancelled_at timestamptz, OUT cancel_reason text, OUT updated_at timestamptz, OUT commit_lsn pg_lsn)
LANGUAGE plpgsql AS $$
BEGIN
    -- The same rules as record_lesson_progress's upsert: watched time only grows, completed stays completed.
    UPDATE lesson_progress lp
       SET watched_seconds = greatest(lp.watched_seconds, p_watched), last_position_seconds = p_position,
           state = CASE WHEN p_completed THEN 'COMPLETED' ELSE lp.state END,
           completed_at = CASE WHEN p_completed THEN coalesce(lp.completed_at, now()) ELSE lp.completed_at END
      FROM enrollments e
     WHERE lp.enrollment_id = p_enrollment_id AND lp.lesson_id = p_lesson_id
       AND e.id = lp.enrollment_id AND e.state <> 'CANCELLED';
    IF NOT FOUND THEN
        PERFORM record_lesson_progress(p_enrollment_id, p_lesson_id, p_watched, p_position, p_completed);
    END IF;
    SELECT lp.enrollment_id, lp.lesson_id, lp.state, lp.watched_seconds, lp.last_position_seconds,
           lp.updated_at, lp.completed_at, e.id, e.student_id, e.course_id, e.region, e.state,
           e.payment_state, e.progress_percent::float8, e.course_title, e.course_price, e.course_currency,
           e.enrolled_at, e.completed_at, e.cancelled_at, e.cancel_reason, e.updated_at
      INTO enrollment_id, lesson_id, progress_state, watched_seconds, last_position_seconds,
           progress_updated_at, progress_completed_at, id, student_id, course_id, region, state,
           payment_state, progress_percent, course_title, course_price, course_currency, enrolled_at,
           completed_at, cancelled_at, cancel_reason, updated_at
      FROM lesson_progress lp JOIN enrollments e ON e.id = lp.enrollment_id
     WHERE lp.enrollment_id = p_enrollment_id AND lp.lesson_id = p_lesson_id;
    COMMIT;
    commit_lsn := pg_current_wal_insert_lsn();
END;
$$;

-- Replaced by the procedure above.
DROP FUNCTION record_lesson_progress_returning(bigint, bigint, integer, integer, boolean);
