-- RecordLessonProgress in one round trip: the upsert (through record_lesson_progress, whose trigger
-- refreshes the enrollment) and the rows the service returns, from one function call that runs in
-- autocommit mode as its own transaction.
CREATE FUNCTION record_lesson_progress_returning(p_enrollment_id bigint, p_lesson_id bigint, p_watched integer,
                                                 p_position integer, p_completed boolean)
RETURNS TABLE (enrollment_id bigint, lesson_id bigint, progress_state text, watched_seconds integer,
               last_position_seconds integer, progress_updated_at timestamptz, progress_completed_at timestamptz,
               id bigint, student_id bigint, course_id bigint, region text, state text, payment_state text,
               progress_percent float8, course_title text, course_price numeric, course_currency char(3),
               enrolled_at timestamptz, completed_at timestamptz, cancelled_at timestamptz, cancel_reason text,
               updated_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM record_lesson_progress(p_enrollment_id, p_lesson_id, p_watched, p_position, p_completed);
    RETURN QUERY
        SELECT lp.enrollment_id, lp.lesson_id, lp.state, lp.watched_seconds, lp.last_position_seconds,
               lp.updated_at, lp.completed_at, e.id, e.student_id, e.course_id, e.region, e.state,
               e.payment_state, e.progress_percent::float8, e.course_title, e.course_price, e.course_currency,
               e.enrolled_at, e.completed_at, e.cancelled_at, e.cancel_reason, e.updated_at
          FROM lesson_progress lp JOIN enrollments e ON e.id = lp.enrollment_id
         WHERE lp.enrollment_id = p_enrollment_id AND lp.lesson_id = p_lesson_id;
END;
$$;
