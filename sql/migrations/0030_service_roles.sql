-- One login role per service that stores rows in PostgreSQL (content keeps its documents in MongoDB), each
-- granted only the tables, sequences and routines its service uses. The roles are made here with no password:
-- `elearn up` and `elearn migrate` set each one's (a SCRAM verifier, launcher/pg_roles.py) after migrating.
-- Migrations, the launcher and the tests keep the admin role, which owns every object: a superuser locally
-- and in docker-compose, the database owner with CREATEROLE and pg_read_all_stats on Kubernetes. A role
-- made by CREATE ROLE is NOSUPERUSER, NOCREATEDB, NOCREATEROLE, NOREPLICATION and NOBYPASSRLS by default
-- (a role that is not a superuser may not even name those attributes).
--
-- A migration that adds a table, sequence or routine a service uses must grant it to that service's role, as
-- below; one that replaces (CREATE OR REPLACE) a routine made SECURITY DEFINER below must say so again.

DO $$
DECLARE
    service text;
BEGIN
    FOREACH service IN ARRAY ARRAY['users', 'courses', 'enrollments', 'payments'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'elearn_' || service) THEN
            EXECUTE format('CREATE ROLE %I LOGIN NOINHERIT', 'elearn_' || service);
        END IF;
    END LOOP;
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA public FROM PUBLIC;
-- Routines the admin makes later are not PUBLIC's either, whatever order migrations are applied in.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON ROUTINES FROM PUBLIC;

-- What every service needs: IDs from next_id(), and the one-row shard identity it reads.
GRANT SELECT ON shard_identity TO elearn_users, elearn_courses, elearn_enrollments, elearn_payments;
GRANT USAGE ON SEQUENCE id_sequence TO elearn_users, elearn_courses, elearn_enrollments, elearn_payments;
GRANT EXECUTE ON FUNCTION next_id, id_from_parts
    TO elearn_users, elearn_courses, elearn_enrollments, elearn_payments;
GRANT SELECT, INSERT ON idempotency_keys TO elearn_users, elearn_courses, elearn_enrollments, elearn_payments;

-- The replica monitor's probe reads the WAL senders' and receiver's state, which PostgreSQL shows in full
-- only to superusers and pg_read_all_stats (a role that would also show every session's last statement, with
-- its values): the same one round trip as shared/pg/node_probe.py's PROBE_SQL, run with its owner's rights.
CREATE FUNCTION node_probe()
    RETURNS TABLE (in_recovery boolean, lsn text, timeline integer, replay_age_s float8, replay_paused boolean,
                   receiving boolean, streaming bigint, replay_lag_s float8, synchronous bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT r.in_recovery,
       CASE WHEN r.in_recovery THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text,
       CASE WHEN r.in_recovery THEN NULL
            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
       CASE WHEN r.in_recovery THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END,
       CASE WHEN r.in_recovery THEN pg_is_wal_replay_paused() ELSE false END,
       coalesce((SELECT status = 'streaming' FROM pg_stat_get_wal_receiver()), false),
       s.streaming, s.replay_lag, s.synchronous
FROM (SELECT pg_is_in_recovery() AS in_recovery) r,
     (SELECT count(*) FILTER (WHERE state = 'streaming') AS streaming,
             coalesce(max(extract(epoch FROM replay_lag)), 0)::float8 AS replay_lag,
             count(*) FILTER (WHERE sync_state IN ('sync', 'quorum')) AS synchronous
        FROM pg_stat_get_wal_senders()) s
$$;
REVOKE EXECUTE ON FUNCTION node_probe FROM PUBLIC;
GRANT EXECUTE ON FUNCTION node_probe TO elearn_users, elearn_courses, elearn_enrollments, elearn_payments;

-- Routines that must reach another service's table run with their owner's rights, with a fixed search_path
-- (a caller cannot put its own objects in front): each reads or locks only the rows its one job needs.
--   create_course, enroll_student: the instructor's or student's users row, locked FOR KEY SHARE (a lock
--     PostgreSQL grants only to a role that may UPDATE the table).
--   add_payment_method, delete_payment_method: the owner's users row, locked FOR NO KEY UPDATE.
--   course_enrollment_stats (enrollments) and course_revenue (enrollments, transactions): courses' reports.
ALTER FUNCTION create_course SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION enroll_student SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION add_payment_method SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION delete_payment_method SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION course_enrollment_stats SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION course_revenue SECURITY DEFINER SET search_path = public, pg_temp;

-- users: accounts, profiles, the email directory, sign-in throttling and sessions; batch sign-ups; the
-- decisions of its cross-shard writes (email_directory lives on the email's shard).
GRANT SELECT, INSERT, UPDATE, DELETE ON users, user_profiles, email_directory, refresh_tokens, sign_in_attempts,
    revoked_sessions TO elearn_users;
GRANT SELECT, INSERT, UPDATE ON batch_results TO elearn_users;
GRANT SELECT, INSERT, DELETE ON tpc_decisions TO elearn_users;

-- courses: the catalogue (categories on every shard, through cross-shard writes), outlines and reviews.
GRANT SELECT, INSERT, UPDATE, DELETE ON course_categories, courses, course_modules, course_lessons, course_reviews
    TO elearn_courses;
GRANT SELECT, INSERT, DELETE ON tpc_decisions TO elearn_courses;
GRANT EXECUTE ON FUNCTION create_course, write_course_outline, replace_course_outline, publish_course,
    add_course_review, create_category, course_enrollment_stats, course_revenue TO elearn_courses;

-- enrollments: enrollments, the lesson list copied at enrolment, progress, and batch progress replies.
GRANT SELECT, INSERT, UPDATE, DELETE ON enrollments, course_lesson_refs, lesson_progress TO elearn_enrollments;
GRANT DELETE ON idempotency_keys TO elearn_enrollments;
GRANT SELECT, INSERT, UPDATE ON batch_results TO elearn_enrollments;
GRANT EXECUTE ON FUNCTION enroll_student, record_lesson_progress,
    cancel_enrollment, record_lesson_progress_batch, batch_progress_rows TO elearn_enrollments;
GRANT EXECUTE ON PROCEDURE record_lesson_progress_committed TO elearn_enrollments;

-- payments: cards (deleted softly), transactions, invoices (written once, never changed). It reads the
-- enrollment it charges or refunds and sets only its payment state, and reads a user's region.
GRANT SELECT, INSERT, UPDATE ON payment_methods, transactions TO elearn_payments;
GRANT SELECT, INSERT ON invoices, invoice_line_items TO elearn_payments;
GRANT USAGE ON SEQUENCE invoice_number_seq TO elearn_payments;
GRANT SELECT ON enrollments TO elearn_payments;
GRANT UPDATE (payment_state) ON enrollments TO elearn_payments;
GRANT SELECT (id, region) ON users TO elearn_payments;
GRANT EXECUTE ON FUNCTION next_invoice_number, add_payment_method, delete_payment_method, take_payment,
    refund_payment, revenue_report TO elearn_payments;
