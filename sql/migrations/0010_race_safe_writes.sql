-- Writes that stay right under any interleaving (issue 13). In READ COMMITTED a statement sees the rows
-- committed before it started, so a count taken and then written back races with a concurrent writer unless
-- both lock the row they write first, in one order, and count in a later statement (which sees what the
-- lock's previous holder committed). Lock order: the parent row (enrollment, course), then the child rows.

-- ---- lesson progress ------------------------------------------------------------------------------------
-- The completion trigger locks the enrollment before counting; every writer that completes a lesson has
-- locked it already (below), so the lock is a no-op for them and keeps any other writer right.
CREATE OR REPLACE FUNCTION refresh_enrollment_progress() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    total integer;
    done  integer;
BEGIN
    PERFORM 1 FROM enrollments WHERE id = NEW.enrollment_id FOR NO KEY UPDATE;
    SELECT count(*) INTO total FROM course_lesson_refs r JOIN enrollments e ON e.course_id = r.course_id
     WHERE e.id = NEW.enrollment_id;
    SELECT count(*) INTO done FROM lesson_progress WHERE enrollment_id = NEW.enrollment_id AND state = 'COMPLETED';
    UPDATE enrollments
       SET progress_percent = CASE WHEN total = 0 THEN 0 ELSE round(100.0 * least(done, total) / total, 2) END,
           state = CASE WHEN state = 'ACTIVE' AND total > 0 AND done >= total THEN 'COMPLETED' ELSE state END,
           completed_at = CASE WHEN state = 'ACTIVE' AND total > 0 AND done >= total THEN now()
                               ELSE completed_at END
     WHERE id = NEW.enrollment_id;
    RETURN NULL;
END;
$$;

-- The checked path (a lesson's first record, or a refusal): a completion locks the enrollment before it
-- writes the lesson row. Watching alone never changes the count, so it takes no lock.
CREATE OR REPLACE FUNCTION record_lesson_progress(p_enrollment_id bigint, p_lesson_id bigint, p_watched integer,
                                                  p_position integer, p_completed boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    enrollment_state text;
    enrolled_course  bigint;
BEGIN
    IF p_completed THEN
        SELECT state, course_id INTO enrollment_state, enrolled_course FROM enrollments WHERE id = p_enrollment_id
           FOR NO KEY UPDATE;
    ELSE
        SELECT state, course_id INTO enrollment_state, enrolled_course FROM enrollments WHERE id = p_enrollment_id;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'enrollment % not found', p_enrollment_id USING ERRCODE = 'no_data_found';
    END IF;
    IF enrollment_state = 'CANCELLED' THEN
        RAISE EXCEPTION 'enrollment % is cancelled', p_enrollment_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM course_lesson_refs WHERE course_id = enrolled_course AND lesson_id = p_lesson_id) THEN
        RAISE EXCEPTION 'lesson % is not part of course %', p_lesson_id, enrolled_course
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'lesson_progress_lesson_fkey';
    END IF;
    INSERT INTO lesson_progress AS lp (enrollment_id, lesson_id, state, watched_seconds, last_position_seconds,
                                       completed_at)
    VALUES (p_enrollment_id, p_lesson_id, CASE WHEN p_completed THEN 'COMPLETED' ELSE 'IN_PROGRESS' END,
            p_watched, p_position, CASE WHEN p_completed THEN now() END)
    ON CONFLICT (enrollment_id, lesson_id) DO UPDATE
       SET watched_seconds = greatest(lp.watched_seconds, EXCLUDED.watched_seconds),
           last_position_seconds = EXCLUDED.last_position_seconds,
           state = CASE WHEN lp.state = 'COMPLETED' THEN 'COMPLETED' ELSE EXCLUDED.state END,
           completed_at = coalesce(lp.completed_at, EXCLUDED.completed_at);
END;
$$;

-- The one-round-trip procedure (0009), with the same rule: a completion locks its enrollment first; watching
-- a lesson already started stays a single UPDATE.
CREATE OR REPLACE PROCEDURE record_lesson_progress_committed(
    p_enrollment_id bigint, p_lesson_id bigint, p_watched integer, p_position integer, p_completed boolean,
    OUT enrollment_id bigint, OUT lesson_id bigint, OUT progress_state text, OUT watched_seconds integer,
    OUT last_position_seconds integer, OUT progress_updated_at timestamptz, OUT progress_completed_at timestamptz,
    OUT id bigint, OUT student_id bigint, OUT course_id bigint, OUT region text, OUT state text,
    OUT payment_state text, OUT progress_percent float8, OUT course_title text, OUT course_price numeric,
    OUT course_currency char(3), OUT enrolled_at timestamptz, OUT completed_at timestamptz,
    OUT cancelled_at timestamptz, OUT cancel_reason text, OUT updated_at timestamptz, OUT commit_lsn pg_lsn)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_completed THEN
        PERFORM 1 FROM enrollments e WHERE e.id = p_enrollment_id FOR NO KEY UPDATE;
    END IF;
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

-- Repair what the race left behind: progress and state recomputed from the lesson rows (a completed
-- enrollment stays completed; one that should have completed does, at its last lesson's completion).
UPDATE enrollments e
   SET progress_percent = CASE WHEN c.total = 0 THEN 0 ELSE round(100.0 * least(c.done, c.total) / c.total, 2) END,
       state = CASE WHEN e.state = 'ACTIVE' AND c.total > 0 AND c.done >= c.total THEN 'COMPLETED' ELSE e.state END,
       completed_at = CASE WHEN e.state = 'ACTIVE' AND c.total > 0 AND c.done >= c.total
                           THEN coalesce(c.last_done, now()) ELSE e.completed_at END
  FROM (SELECT x.id,
               (SELECT count(*) FROM course_lesson_refs r WHERE r.course_id = x.course_id) AS total,
               (SELECT count(*) FROM lesson_progress p WHERE p.enrollment_id = x.id AND p.state = 'COMPLETED') AS done,
               (SELECT max(p.completed_at) FROM lesson_progress p WHERE p.enrollment_id = x.id) AS last_done
          FROM enrollments x) c
 WHERE c.id = e.id
   AND (e.progress_percent <> CASE WHEN c.total = 0 THEN 0
                                   ELSE round(100.0 * least(c.done, c.total) / c.total, 2) END
        OR (e.state = 'ACTIVE' AND c.total > 0 AND c.done >= c.total));

-- ---- reviews --------------------------------------------------------------------------------------------
-- AddReview took FOR SHARE on the course, then the rating trigger's UPDATE needed the row exclusively: two
-- reviewers each holding the share lock deadlocked. Now the course row is locked for update first, and the
-- trigger aggregates in a statement of its own after that lock, so it sees every committed review.
CREATE OR REPLACE FUNCTION add_course_review(p_id bigint, p_course_id bigint, p_student_id bigint, p_rating integer,
                                             p_comment text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    current_state text;
BEGIN
    SELECT state INTO current_state FROM courses WHERE id = p_course_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'course % not found', p_course_id USING ERRCODE = 'no_data_found';
    END IF;
    IF current_state = 'DRAFT' THEN
        RAISE EXCEPTION 'a DRAFT course cannot be reviewed' USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    INSERT INTO course_reviews (id, course_id, student_id, rating, comment)
    VALUES (p_id, p_course_id, p_student_id, p_rating, p_comment);
    RETURN p_id;
END;
$$;

CREATE OR REPLACE FUNCTION refresh_course_rating() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    affected bigint[] := CASE WHEN TG_OP = 'INSERT' THEN ARRAY[NEW.course_id]
                              WHEN TG_OP = 'DELETE' THEN ARRAY[OLD.course_id]
                              ELSE ARRAY[NEW.course_id, OLD.course_id] END;
BEGIN
    PERFORM 1 FROM courses WHERE id = ANY (affected) ORDER BY id FOR NO KEY UPDATE;
    UPDATE courses c
       SET average_rating = coalesce(r.average, 0), review_count = coalesce(r.reviews, 0)
      FROM (SELECT a.course_id, round(avg(cr.rating), 2) AS average, count(cr.id) AS reviews
              FROM (SELECT DISTINCT unnest(affected) AS course_id) a
              LEFT JOIN course_reviews cr ON cr.course_id = a.course_id
             GROUP BY a.course_id) r
     WHERE c.id = r.course_id;
    RETURN NULL;
END;
$$;

-- ---- DeleteCourse racing Enroll (README: "DeleteCourse racing Enroll") --------------------------------------
-- DeleteCourse first claims the course (committed): from then on the course reads as ARCHIVED, closed to
-- enrollment. It then asks the enrollments service for the course's enrollments and deletes the course only
-- while its claim still holds; otherwise it releases the claim. A claim left by a crashed call goes stale and
-- may be taken over.
ALTER TABLE courses ADD COLUMN delete_claim uuid, ADD COLUMN delete_claimed_at timestamptz,
    ADD CONSTRAINT courses_delete_claim_check CHECK ((delete_claim IS NULL) = (delete_claimed_at IS NULL));
