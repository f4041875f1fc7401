-- BatchRecordLessonProgress's read_mask (AIP-157, issue 18): a shard's part returns only the results' fields the
-- caller asked for, and reads back only those. p_returned: 2 every field (the lesson's and the enrollment's
-- rows, as 0031 does), 1 the lesson's row only, 0 each item's error alone (a heartbeat's sender needs no more).
-- On a bench shard, 33 items 8 at a time, the part cost PostgreSQL 1.8 ms returning everything, 1.47 ms returning
-- the lesson rows without the enrollments' columns, and 1.2-1.9 ms (by the table's state) for the writes and the
-- COMMIT alone.
--
-- The writes are 0018's whatever the mask. An idempotent batch (a request_id) still keeps every field of its
-- results, so a replay can return any of them; only a batch without one skips the reading back. 0018's function
-- and 0031's procedure stay, for a service of the previous release, as calls of the new ones.

-- Each item's outcome after the writes, with the fields of `p_returned` (the others NULL).
CREATE FUNCTION batch_progress_rows_returning(p_index integer[], p_enrollment bigint[], p_lesson bigint[],
                                              p_error text[], p_returned smallint)
RETURNS SETOF progress_batch_result
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_returned >= 2 THEN
        RETURN QUERY SELECT * FROM batch_progress_rows(p_index, p_enrollment, p_lesson, p_error);
    ELSIF p_returned = 1 THEN
        RETURN QUERY
        SELECT i.idx, i.error, lp.enrollment_id, lp.lesson_id, lp.state, lp.watched_seconds,
               lp.last_position_seconds, lp.updated_at, lp.completed_at, NULL::bigint, NULL::bigint, NULL::bigint,
               NULL::text, NULL::text, NULL::text, NULL::float8, NULL::text, NULL::numeric, NULL::char(3),
               NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::text, NULL::timestamptz
          FROM unnest(p_index, p_enrollment, p_lesson, p_error) AS i(idx, enrollment_id, lesson_id, error)
          LEFT JOIN lesson_progress lp
                 ON i.error IS NULL AND lp.enrollment_id = i.enrollment_id AND lp.lesson_id = i.lesson_id
         ORDER BY i.idx;
    ELSE
        RETURN QUERY
        SELECT i.idx, i.error, NULL::bigint, NULL::bigint, NULL::text, NULL::integer, NULL::integer,
               NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text,
               NULL::text, NULL::text, NULL::float8, NULL::text, NULL::numeric, NULL::char(3), NULL::timestamptz,
               NULL::timestamptz, NULL::timestamptz, NULL::text, NULL::timestamptz
          FROM unnest(p_index, p_error) AS i(idx, error)
         ORDER BY i.idx;
    END IF;
END;
$$;

-- 0018's writes, in one place: the locks, each item's error code (NULL when it can be written) and the upsert;
-- returns the error codes in item order. Both record_lesson_progress_batch functions below call it.
CREATE FUNCTION write_lesson_progress_batch(p_enrollment bigint[], p_lesson bigint[], p_watched integer[],
                                            p_position integer[], p_completed boolean[])
RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    v_error text[];
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
    RETURN v_error;
END;
$$;

-- The writes, then the results with the fields of `p_returned` (read in a statement of their own, so they see
-- what the completion triggers wrote); an idempotent batch keeps them all (jsonb, as 0018) and returns the
-- stored rows, so a replay returns exactly the same values.
CREATE FUNCTION record_lesson_progress_batch_returning(p_request_id text, p_index integer[], p_enrollment bigint[],
                                                       p_lesson bigint[], p_watched integer[], p_position integer[],
                                                       p_completed boolean[], p_returned smallint)
RETURNS SETOF progress_batch_result
LANGUAGE plpgsql AS $$
DECLARE
    v_error   text[];
    v_results jsonb;
BEGIN
    v_error := write_lesson_progress_batch(p_enrollment, p_lesson, p_watched, p_position, p_completed);
    IF p_request_id = '' THEN
        RETURN QUERY SELECT * FROM batch_progress_rows_returning(p_index, p_enrollment, p_lesson, v_error,
                                                                 p_returned);
        RETURN;
    END IF;
    SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.item_index), '[]') INTO v_results
      FROM batch_progress_rows(p_index, p_enrollment, p_lesson, v_error) x;
    UPDATE batch_results SET results = v_results
     WHERE method = 'enrollments.BatchRecordLessonProgress' AND request_id = p_request_id;
    RETURN QUERY SELECT * FROM jsonb_populate_recordset(NULL::progress_batch_result, v_results);
END;
$$;

-- 0018's function, for a service of the previous release (through 0031's procedure): now the same writes and
-- every field of the results.
CREATE OR REPLACE FUNCTION record_lesson_progress_batch(p_request_id text, p_index integer[], p_enrollment bigint[],
                                                        p_lesson bigint[], p_watched integer[], p_position integer[],
                                                        p_completed boolean[])
RETURNS SETOF progress_batch_result
LANGUAGE sql AS $$
    SELECT * FROM record_lesson_progress_batch_returning(p_request_id, p_index, p_enrollment, p_lesson, p_watched,
                                                         p_position, p_completed, 2::smallint)
$$;

-- 0031's procedure with `p_returned`: the results as one array per column (NULL for a column not returned), in
-- item order, the stored fingerprint first and the commit position last.
CREATE PROCEDURE record_lesson_progress_batch_committed_returning(
    p_request_id text, p_request_hash bytea, p_index integer[], p_enrollment bigint[], p_lesson bigint[],
    p_watched integer[], p_position integer[], p_completed boolean[], p_returned smallint,
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
    IF p_request_id = '' AND p_returned = 0 THEN
        -- A heartbeat batch: each item's error code, in item order, straight from the writes.
        item_index := p_index;
        error := write_lesson_progress_batch(p_enrollment, p_lesson, p_watched, p_position, p_completed);
        COMMIT;
        commit_lsn := pg_current_wal_insert_lsn();
        RETURN;
    END IF;
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
        v_rows := ARRAY(SELECT r FROM record_lesson_progress_batch_returning(
                            p_request_id, p_index, p_enrollment, p_lesson, p_watched, p_position, p_completed,
                            p_returned) r
                         ORDER BY r.item_index);
    END IF;
    IF p_returned >= 2 THEN
        SELECT array_agg(u.item_index ORDER BY u.ordinality), array_agg(u.error ORDER BY u.ordinality),
               array_agg(u.enrollment_id ORDER BY u.ordinality), array_agg(u.lesson_id ORDER BY u.ordinality),
               array_agg(u.progress_state ORDER BY u.ordinality),
               array_agg(u.watched_seconds ORDER BY u.ordinality),
               array_agg(u.last_position_seconds ORDER BY u.ordinality),
               array_agg(u.progress_updated_at ORDER BY u.ordinality),
               array_agg(u.progress_completed_at ORDER BY u.ordinality), array_agg(u.id ORDER BY u.ordinality),
               array_agg(u.student_id ORDER BY u.ordinality), array_agg(u.course_id ORDER BY u.ordinality),
               array_agg(u.region ORDER BY u.ordinality), array_agg(u.state ORDER BY u.ordinality),
               array_agg(u.payment_state ORDER BY u.ordinality),
               array_agg(u.progress_percent ORDER BY u.ordinality),
               array_agg(u.course_title ORDER BY u.ordinality), array_agg(u.course_price ORDER BY u.ordinality),
               array_agg(u.course_currency ORDER BY u.ordinality), array_agg(u.enrolled_at ORDER BY u.ordinality),
               array_agg(u.completed_at ORDER BY u.ordinality), array_agg(u.cancelled_at ORDER BY u.ordinality),
               array_agg(u.cancel_reason ORDER BY u.ordinality), array_agg(u.updated_at ORDER BY u.ordinality)
          INTO item_index, error, enrollment_id, lesson_id, progress_state, watched_seconds,
               last_position_seconds, progress_updated_at, progress_completed_at, id, student_id, course_id,
               region, state, payment_state, progress_percent, course_title, course_price, course_currency,
               enrolled_at, completed_at, cancelled_at, cancel_reason, updated_at
          FROM unnest(v_rows) WITH ORDINALITY AS u;
    ELSIF p_returned = 1 THEN
        SELECT array_agg(u.item_index ORDER BY u.ordinality), array_agg(u.error ORDER BY u.ordinality),
               array_agg(u.enrollment_id ORDER BY u.ordinality), array_agg(u.lesson_id ORDER BY u.ordinality),
               array_agg(u.progress_state ORDER BY u.ordinality),
               array_agg(u.watched_seconds ORDER BY u.ordinality),
               array_agg(u.last_position_seconds ORDER BY u.ordinality),
               array_agg(u.progress_updated_at ORDER BY u.ordinality),
               array_agg(u.progress_completed_at ORDER BY u.ordinality)
          INTO item_index, error, enrollment_id, lesson_id, progress_state, watched_seconds,
               last_position_seconds, progress_updated_at, progress_completed_at
          FROM unnest(v_rows) WITH ORDINALITY AS u;
    ELSE
        SELECT array_agg(u.item_index ORDER BY u.ordinality), array_agg(u.error ORDER BY u.ordinality)
          INTO item_index, error
          FROM unnest(v_rows) WITH ORDINALITY AS u;
    END IF;
    COMMIT;
    commit_lsn := pg_current_wal_insert_lsn();
END;
$$;

-- 0031's procedure, for a service of the previous release: the new one returning every field.
CREATE OR REPLACE PROCEDURE record_lesson_progress_batch_committed(
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
BEGIN
    CALL record_lesson_progress_batch_committed_returning(
        p_request_id, p_request_hash, p_index, p_enrollment, p_lesson, p_watched, p_position, p_completed,
        2::smallint, stored_hash, item_index, error, enrollment_id, lesson_id, progress_state, watched_seconds,
        last_position_seconds, progress_updated_at, progress_completed_at, id, student_id, course_id, region,
        state, payment_state, progress_percent, course_title, course_price, course_currency, enrolled_at,
        completed_at, cancelled_at, cancel_reason, updated_at, commit_lsn);
END;
$$;

GRANT EXECUTE ON FUNCTION batch_progress_rows_returning, write_lesson_progress_batch,
    record_lesson_progress_batch_returning TO elearn_enrollments;
GRANT EXECUTE ON PROCEDURE record_lesson_progress_batch_committed_returning TO elearn_enrollments;
