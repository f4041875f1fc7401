-- Enrollments and lesson progress, on the student's shard (the student is a local foreign key; the
-- course, on its own shard, is checked through the courses service and snapshotted here).

CREATE TABLE enrollments (
    id               bigint        PRIMARY KEY DEFAULT next_id(),
    student_id       bigint        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    course_id        bigint        NOT NULL,
    region           text          NOT NULL CHECK (region IN ('NORTH_AMERICA', 'SOUTH_AMERICA', 'EUROPE',
                                                              'AFRICA', 'ASIA', 'OCEANIA')),
    state            text          NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'COMPLETED', 'CANCELLED')),
    payment_state    text          NOT NULL DEFAULT 'UNPAID' CHECK (payment_state IN ('UNPAID', 'PAID', 'REFUNDED')),
    progress_percent numeric(5,2)  NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
    course_title     text          NOT NULL,
    course_price     numeric(12,2) NOT NULL CHECK (course_price >= 0),
    course_currency  char(3)       NOT NULL CHECK (course_currency ~ '^[A-Z]{3}$'),
    enrolled_at      timestamptz   NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    cancelled_at     timestamptz,
    cancel_reason    text          NOT NULL DEFAULT '' CHECK (length(cancel_reason) <= 1000),
    updated_at       timestamptz   NOT NULL DEFAULT now(),
    CHECK (state <> 'COMPLETED' OR completed_at IS NOT NULL),
    CHECK (state <> 'CANCELLED' OR cancelled_at IS NOT NULL)
);
-- Enroll: one live enrollment per student and course (a cancelled one may be followed by a new one).
CREATE UNIQUE INDEX enrollments_live_key ON enrollments (student_id, course_id) WHERE state <> 'CANCELLED';
-- ListEnrollments: a student's enrollments, keyset on (enrolled_at, id); also the foreign key's child side.
CREATE INDEX enrollments_student_idx ON enrollments (student_id, enrolled_at, id);
-- ListEnrollments filtered by state.
CREATE INDEX enrollments_student_state_idx ON enrollments (student_id, state, enrolled_at, id);
-- Course statistics and DeleteCourse's "has enrollments" check, per shard.
CREATE INDEX enrollments_course_idx ON enrollments (course_id, state);
-- CreatePayment looks for the unpaid enrollment it pays.
CREATE INDEX enrollments_unpaid_idx ON enrollments (student_id, id) WHERE payment_state = 'UNPAID';
CREATE TRIGGER enrollments_set_updated_at BEFORE UPDATE ON enrollments
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The lessons of a course, as the courses service described them when a student of this shard first
-- enrolled: what RecordLessonProgress accepts and what progress is measured against. A published course's
-- outline is frozen, so the snapshot stays right.
CREATE TABLE course_lesson_refs (
    course_id bigint NOT NULL,
    lesson_id bigint NOT NULL,
    PRIMARY KEY (course_id, lesson_id)
);

CREATE TABLE lesson_progress (
    enrollment_id         bigint      NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
    lesson_id             bigint      NOT NULL,
    state                 text        NOT NULL CHECK (state IN ('IN_PROGRESS', 'COMPLETED')),
    watched_seconds       integer     NOT NULL DEFAULT 0 CHECK (watched_seconds >= 0),
    last_position_seconds integer     NOT NULL DEFAULT 0 CHECK (last_position_seconds >= 0),
    completed_at          timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enrollment_id, lesson_id),
    CHECK ((state = 'COMPLETED') = (completed_at IS NOT NULL))
);
-- The progress trigger counts an enrollment's completed lessons.
CREATE INDEX lesson_progress_completed_idx ON lesson_progress (enrollment_id) WHERE state = 'COMPLETED';
CREATE TRIGGER lesson_progress_set_updated_at BEFORE UPDATE ON lesson_progress
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Keeps an enrollment's progress_percent right, and completes it when every lesson is completed.
CREATE FUNCTION refresh_enrollment_progress() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    total integer;
    done  integer;
BEGIN
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
CREATE TRIGGER lesson_progress_refresh_enrollment AFTER INSERT OR UPDATE OF state ON lesson_progress
    FOR EACH ROW EXECUTE FUNCTION refresh_enrollment_progress();

-- Enroll: the course outline snapshot and the enrollment, in one call; a free course starts PAID.
CREATE FUNCTION enroll_student(p_id bigint, p_student_id bigint, p_course_id bigint, p_title text,
                               p_price numeric, p_currency text, p_lesson_ids bigint[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    student_region text;
BEGIN
    SELECT region INTO student_region FROM users WHERE id = p_student_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'student % does not exist', p_student_id USING ERRCODE = 'foreign_key_violation',
            CONSTRAINT = 'enrollments_student_id_fkey';
    END IF;
    INSERT INTO course_lesson_refs (course_id, lesson_id)
    SELECT p_course_id, unnest(p_lesson_ids) ON CONFLICT DO NOTHING;
    INSERT INTO enrollments (id, student_id, course_id, region, payment_state, course_title, course_price,
                             course_currency)
    VALUES (p_id, p_student_id, p_course_id, student_region, CASE WHEN p_price = 0 THEN 'PAID' ELSE 'UNPAID' END,
            p_title, p_price, p_currency);
    RETURN p_id;
END;
$$;

-- RecordLessonProgress: an upsert that never moves backwards (watched time only grows, a completed lesson
-- stays completed); the trigger refreshes the enrollment.
CREATE FUNCTION record_lesson_progress(p_enrollment_id bigint, p_lesson_id bigint, p_watched integer,
                                       p_position integer, p_completed boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    enrollment_state text;
    enrolled_course  bigint;
BEGIN
    SELECT state, course_id INTO enrollment_state, enrolled_course FROM enrollments WHERE id = p_enrollment_id;
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

-- CancelEnrollment: only an ACTIVE enrollment.
CREATE FUNCTION cancel_enrollment(p_enrollment_id bigint, p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    current_state text;
BEGIN
    SELECT state INTO current_state FROM enrollments WHERE id = p_enrollment_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'enrollment % not found', p_enrollment_id USING ERRCODE = 'no_data_found';
    END IF;
    IF current_state <> 'ACTIVE' THEN
        RAISE EXCEPTION 'only an ACTIVE enrollment can be cancelled (this one is %)', current_state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE enrollments SET state = 'CANCELLED', cancelled_at = now(), cancel_reason = p_reason
     WHERE id = p_enrollment_id;
END;
$$;

-- Course statistics, DeleteCourse and the enrollment counts of course listings: this shard's part.
CREATE FUNCTION course_enrollment_stats(p_course_ids bigint[])
RETURNS TABLE (course_id bigint, enrollments bigint, completions bigint, cancellations bigint,
               progress_sum numeric, progress_count bigint)
LANGUAGE sql STABLE AS $$
    SELECT e.course_id, count(*), count(*) FILTER (WHERE e.state = 'COMPLETED'),
           count(*) FILTER (WHERE e.state = 'CANCELLED'),
           coalesce(sum(e.progress_percent) FILTER (WHERE e.state <> 'CANCELLED'), 0),
           count(*) FILTER (WHERE e.state <> 'CANCELLED')
      FROM enrollments e
     WHERE e.course_id = ANY (p_course_ids)
     GROUP BY e.course_id;
$$;
