-- Courses, their outline (modules, lessons), reviews, and the category tree.
-- A course lives on the shard of its instructor's home region, so the instructor is a local foreign key;
-- reviews live on the course's shard so the rating trigger stays local. Categories are reference data
-- present on every shard with the same IDs, written to all shards in one two-phase commit.

CREATE TABLE course_categories (
    id          bigint      PRIMARY KEY,
    name        text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    slug        text        NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    description text        NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    parent_id   bigint      REFERENCES course_categories (id) ON DELETE RESTRICT,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
-- CreateCategory: slugs are unique.
CREATE UNIQUE INDEX course_categories_slug_key ON course_categories (slug);
-- The foreign key's child side (a parent cannot be deleted while it has children).
CREATE INDEX course_categories_parent_idx ON course_categories (parent_id) WHERE parent_id IS NOT NULL;
-- ListCategories: keyset on (created_at, id).
CREATE INDEX course_categories_created_idx ON course_categories (created_at, id);
CREATE TRIGGER course_categories_set_updated_at BEFORE UPDATE ON course_categories
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE courses (
    id               bigint        PRIMARY KEY DEFAULT next_id(),
    instructor_id    bigint        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    region           text          NOT NULL CHECK (region IN ('NORTH_AMERICA', 'SOUTH_AMERICA', 'EUROPE',
                                                              'AFRICA', 'ASIA', 'OCEANIA')),
    category_id      bigint        NOT NULL REFERENCES course_categories (id) ON DELETE RESTRICT,
    title            text          NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    subtitle         text          NOT NULL DEFAULT '' CHECK (length(subtitle) <= 300),
    description      text          NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    language         text          NOT NULL CHECK (length(language) BETWEEN 2 AND 35),
    level            text          NOT NULL CHECK (level IN ('BEGINNER', 'INTERMEDIATE', 'ADVANCED')),
    price_amount     numeric(12,2) NOT NULL CHECK (price_amount >= 0),
    currency         char(3)       NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    state            text          NOT NULL DEFAULT 'DRAFT' CHECK (state IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')),
    average_rating   numeric(3,2)  NOT NULL DEFAULT 0 CHECK (average_rating BETWEEN 0 AND 5),
    review_count     integer       NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    duration_minutes integer       NOT NULL DEFAULT 0 CHECK (duration_minutes >= 0),
    published_at     timestamptz,
    created_at       timestamptz   NOT NULL DEFAULT now(),
    updated_at       timestamptz   NOT NULL DEFAULT now(),
    CHECK (state = 'DRAFT' OR published_at IS NOT NULL)
);
-- ListCourses (no filter): keyset on (created_at, id), merged across shards.
CREATE INDEX courses_created_idx ON courses (created_at, id);
-- ListCourses by instructor, and the foreign key's child side (an instructor with courses cannot be deleted).
CREATE INDEX courses_instructor_idx ON courses (instructor_id, created_at, id);
-- ListCourses by category, and the foreign key's child side.
CREATE INDEX courses_category_idx ON courses (category_id, created_at, id);
-- ListCourses by region (two regions share a shard).
CREATE INDEX courses_region_idx ON courses (region, created_at, id);
-- ListCourses of published courses, the catalogue's common case.
CREATE INDEX courses_published_idx ON courses (created_at, id) WHERE state = 'PUBLISHED';
CREATE TRIGGER courses_set_updated_at BEFORE UPDATE ON courses
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE course_modules (
    id         bigint      PRIMARY KEY DEFAULT next_id(),
    course_id  bigint      NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    title      text        NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    position   integer     NOT NULL CHECK (position > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- GetCourse reads a course's modules in order; also the foreign key's child side.
    CONSTRAINT course_modules_position_key UNIQUE (course_id, position)
);
CREATE TRIGGER course_modules_set_updated_at BEFORE UPDATE ON course_modules
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE course_lessons (
    id               bigint      PRIMARY KEY DEFAULT next_id(),
    module_id        bigint      NOT NULL REFERENCES course_modules (id) ON DELETE CASCADE,
    title            text        NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    position         integer     NOT NULL CHECK (position > 0),
    kind             text        NOT NULL CHECK (kind IN ('VIDEO', 'ARTICLE', 'QUIZ')),
    duration_seconds integer     NOT NULL CHECK (duration_seconds >= 0 AND (kind <> 'VIDEO' OR duration_seconds > 0)),
    is_preview       boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- GetCourse reads a module's lessons in order; also the foreign key's child side.
    CONSTRAINT course_lessons_position_key UNIQUE (module_id, position)
);
-- Enroll and RecordLessonProgress ask for a course's lessons through its modules.
CREATE INDEX course_lessons_preview_idx ON course_lessons (module_id) WHERE is_preview;
CREATE TRIGGER course_lessons_set_updated_at BEFORE UPDATE ON course_lessons
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE course_reviews (
    id         bigint      PRIMARY KEY DEFAULT next_id(),
    course_id  bigint      NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    student_id bigint      NOT NULL,  -- on the student's shard: checked through the enrollments service
    rating     smallint    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    text        NOT NULL DEFAULT '' CHECK (length(comment) <= 5000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- AddReview: one review per student and course.
    CONSTRAINT course_reviews_student_key UNIQUE (course_id, student_id)
);
-- ListReviews: keyset on (created_at, id) within a course.
CREATE INDEX course_reviews_course_created_idx ON course_reviews (course_id, created_at, id);
-- A student's reviews (account deletion, "my reviews").
CREATE INDEX course_reviews_student_idx ON course_reviews (student_id);
CREATE TRIGGER course_reviews_set_updated_at BEFORE UPDATE ON course_reviews
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Keeps a course's average_rating and review_count right on every review insert, update and delete.
CREATE FUNCTION refresh_course_rating() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    affected bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.course_id ELSE NEW.course_id END;
BEGIN
    UPDATE courses c
       SET average_rating = coalesce(r.average, 0), review_count = r.reviews
      FROM (SELECT round(avg(rating), 2) AS average, count(*) AS reviews
              FROM course_reviews WHERE course_id = affected) r
     WHERE c.id = affected;
    IF TG_OP = 'UPDATE' AND OLD.course_id <> NEW.course_id THEN
        UPDATE courses c
           SET average_rating = coalesce(r.average, 0), review_count = r.reviews
          FROM (SELECT round(avg(rating), 2) AS average, count(*) AS reviews
                  FROM course_reviews WHERE course_id = OLD.course_id) r
         WHERE c.id = OLD.course_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER course_reviews_refresh_rating AFTER INSERT OR UPDATE OF rating, course_id OR DELETE ON course_reviews
    FOR EACH ROW EXECUTE FUNCTION refresh_course_rating();

-- Writes a course's outline from JSON: [{"title": ..., "lessons": [{"title", "kind", "duration_seconds",
-- "is_preview"}]}]; positions follow the array order. Then refreshes the course's duration.
CREATE FUNCTION write_course_outline(p_course_id bigint, p_outline jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    module_json jsonb;
    module_pos  integer;
    new_module  bigint;
BEGIN
    DELETE FROM course_modules WHERE course_id = p_course_id;
    FOR module_json, module_pos IN
        SELECT value, ordinality FROM jsonb_array_elements(p_outline) WITH ORDINALITY
    LOOP
        INSERT INTO course_modules (course_id, title, position)
        VALUES (p_course_id, module_json ->> 'title', module_pos)
        RETURNING id INTO new_module;
        INSERT INTO course_lessons (module_id, title, position, kind, duration_seconds, is_preview)
        SELECT new_module, l.value ->> 'title', l.ordinality, l.value ->> 'kind',
               (l.value ->> 'duration_seconds')::integer, coalesce((l.value ->> 'is_preview')::boolean, false)
          FROM jsonb_array_elements(module_json -> 'lessons') WITH ORDINALITY AS l;
    END LOOP;
    UPDATE courses
       SET duration_minutes = (SELECT coalesce(ceil(sum(l.duration_seconds) / 60.0), 0)
                                 FROM course_lessons l JOIN course_modules m ON m.id = l.module_id
                                WHERE m.course_id = p_course_id)
     WHERE id = p_course_id;
END;
$$;

-- CreateCourse: the course and its outline in one call. The instructor is a local user (same shard);
-- the course takes the instructor's region.
CREATE FUNCTION create_course(p_id bigint, p_instructor_id bigint, p_category_id bigint, p_title text, p_subtitle text,
                              p_description text, p_language text, p_level text, p_price numeric,
                              p_currency text, p_outline jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    instructor_region text;
    instructor_role   text;
BEGIN
    SELECT region, role INTO instructor_region, instructor_role FROM users WHERE id = p_instructor_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instructor % does not exist', p_instructor_id USING ERRCODE = 'foreign_key_violation',
            CONSTRAINT = 'courses_instructor_id_fkey';
    END IF;
    IF instructor_role NOT IN ('INSTRUCTOR', 'ADMIN') THEN
        RAISE EXCEPTION 'user % is a %, not an instructor', p_instructor_id, instructor_role
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    INSERT INTO courses (id, instructor_id, region, category_id, title, subtitle, description, language, level,
                         price_amount, currency)
    VALUES (p_id, p_instructor_id, instructor_region, p_category_id, p_title, p_subtitle, p_description,
            p_language, p_level, p_price, p_currency);
    PERFORM write_course_outline(p_id, p_outline);
    RETURN p_id;
END;
$$;

-- UpdateCourse of the `modules` path: only while DRAFT (enrolled students' progress refers to lesson IDs).
CREATE FUNCTION replace_course_outline(p_course_id bigint, p_outline jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    current_state text;
BEGIN
    SELECT state INTO current_state FROM courses WHERE id = p_course_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'course % not found', p_course_id USING ERRCODE = 'no_data_found';
    END IF;
    IF current_state <> 'DRAFT' THEN
        RAISE EXCEPTION 'the outline of a % course cannot be replaced; only a DRAFT''s can', current_state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    PERFORM write_course_outline(p_course_id, p_outline);
END;
$$;

-- PublishCourse: needs at least one lesson; publishing a PUBLISHED course changes nothing.
CREATE FUNCTION publish_course(p_course_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    current_state text;
BEGIN
    SELECT state INTO current_state FROM courses WHERE id = p_course_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'course % not found', p_course_id USING ERRCODE = 'no_data_found';
    END IF;
    IF current_state = 'PUBLISHED' THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM course_lessons l JOIN course_modules m ON m.id = l.module_id
                    WHERE m.course_id = p_course_id) THEN
        RAISE EXCEPTION 'a course needs at least one module with one lesson to be published'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE courses SET state = 'PUBLISHED', published_at = coalesce(published_at, now()) WHERE id = p_course_id;
END;
$$;

-- AddReview: the review; the trigger refreshes the course's rating. Returns the review's ID.
CREATE FUNCTION add_course_review(p_id bigint, p_course_id bigint, p_student_id bigint, p_rating integer, p_comment text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    current_state text;
BEGIN
    SELECT state INTO current_state FROM courses WHERE id = p_course_id FOR SHARE;
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

-- CreateCategory: one shard's part of the all-shards write (the same ID on every shard).
CREATE FUNCTION create_category(p_id bigint, p_name text, p_slug text, p_description text, p_parent_id bigint)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO course_categories (id, name, slug, description, parent_id)
    VALUES (p_id, p_name, p_slug, p_description, p_parent_id);
$$;
