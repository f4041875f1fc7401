-- BatchRecordLessonProgress's part on one shard in one round trip (issue 18): the claim of its request_id, the
-- writes (record_lesson_progress_batch, 0018), the results and the COMMIT in one procedure, whose last OUT
-- parameter is the WAL insert position just after the COMMIT (the call's token), as RecordLessonProgress's
-- procedure does (0009). A part took four round trips before: BEGIN, the function, COMMIT, the position.
--
-- The results come back as one array per column, in item order (a procedure returns one row). stored_hash is
-- NULL when this call wrote the part; else it is the fingerprint of the batch that holds p_request_id: the
-- same as p_request_hash for a replay (the stored results, nothing written), another one for a request_id
-- reused by different items (no results, nothing written: the caller refuses the call).
CREATE PROCEDURE record_lesson_progress_batch_committed(
    p_request_id text, p_request_hash bytea, p_index integer[], p_enrollment bigint[], p_lesson bigint[],
    p_watched integer[], p_position integer[], p_completed boolean[],
    OUT stored_hash bytea, OUT item_index integer[], OUT error text[], OUT enrollment_id bigint[],
    OUT lesson_id bigint[], OUT progress_state text[], OUT watched_seconds integer[],
    OUT last_position_seconds integer[], OUT progress_updated_at timestamptz[],
    OUT progress_completed_at timestamptz[], OUT id bigint[], OUT student_id bigint[], OUT course_id bigint[],
    OUT region text[], OUT state text[], OUT payment_state text[], OUT progress_percent float8[],
    OUT course_title text[], OUT course_price numeric[], OUT course_currency char(3)[],
    OUT enrolled_at timestamptz[], OUT completed_at timestamptz[], OUT cancelled_at timestamptz[],
    OUT cancel_reason text[], OUT updated_at timestamptz[], OUT commit_lsn pg_lsn)
LANGUAGE plpgsql AS $$
DECLARE
    v_rows progress_batch_result[];
BEGIN
    IF p_request_id <> '' THEN
        -- A concurrent batch with the same key waits here until the first one ends (as batches.claim).
        INSERT INTO batch_results (method, request_id, request_hash)
        VALUES ('enrollments.BatchRecordLessonProgress', p_request_id, p_request_hash)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT b.request_hash,
                   ARRAY(SELECT r FROM jsonb_populate_recordset(NULL::progress_batch_result, b.results) r
                          ORDER BY r.item_index)
              INTO stored_hash, v_rows
              FROM batch_results b
             WHERE b.method = 'enrollments.BatchRecordLessonProgress' AND b.request_id = p_request_id;
            IF stored_hash IS DISTINCT FROM p_request_hash THEN
                v_rows := NULL;
            END IF;
        END IF;
    END IF;
    IF stored_hash IS NULL THEN
        v_rows := ARRAY(SELECT r FROM record_lesson_progress_batch(p_request_id, p_index, p_enrollment, p_lesson,
                                                                     p_watched, p_position, p_completed) r
                         ORDER BY r.item_index);
    END IF;
    SELECT array_agg(u.item_index ORDER BY u.ordinality), array_agg(u.error ORDER BY u.ordinality),
           array_agg(u.enrollment_id ORDER BY u.ordinality), array_agg(u.lesson_id ORDER BY u.ordinality),
           array_agg(u.progress_state ORDER BY u.ordinality), array_agg(u.watched_seconds ORDER BY u.ordinality),
           array_agg(u.last_position_seconds ORDER BY u.ordinality),
           array_agg(u.progress_updated_at ORDER BY u.ordinality),
           array_agg(u.progress_completed_at ORDER BY u.ordinality), array_agg(u.id ORDER BY u.ordinality),
           array_agg(u.student_id ORDER BY u.ordinality), array_agg(u.course_id ORDER BY u.ordinality),
           array_agg(u.region ORDER BY u.ordinality), array_agg(u.state ORDER BY u.ordinality),
           array_agg(u.payment_state ORDER BY u.ordinality), array_agg(u.progress_percent ORDER BY u.ordinality),
           array_agg(u.course_title ORDER BY u.ordinality), array_agg(u.course_price ORDER BY u.ordinality),
           array_agg(u.course_currency ORDER BY u.ordinality), array_agg(u.enrolled_at ORDER BY u.ordinality),
           array_agg(u.completed_at ORDER BY u.ordinality), array_agg(u.cancelled_at ORDER BY u.ordinality),
           array_agg(u.cancel_reason ORDER BY u.ordinality), array_agg(u.updated_at ORDER BY u.ordinality)
      INTO item_index, error, enrollment_id, lesson_id, progress_state, watched_seconds, last_position_seconds,
           progress_updated_at, progress_completed_at, id, student_id, course_id, region, state, payment_state,
           progress_percent, course_title, course_price, course_currency, enrolled_at, completed_at,
           cancelled_at, cancel_reason, updated_at
      FROM unnest(v_rows) WITH ORDINALITY AS u;
    COMMIT;
    commit_lsn := pg_current_wal_insert_lsn();
END;
$$;

GRANT EXECUTE ON PROCEDURE record_lesson_progress_batch_committed TO elearn_enrollments;
