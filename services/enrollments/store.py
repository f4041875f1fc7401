"""PostgreSQL storage of enrollments and lesson progress, on the student's shard."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from services.enrollments.domain import (
    BatchRow,
    CourseSnapshot,
    Enrollment,
    LessonProgress,
    ProgressItem,
    Returned,
)
from shared import batches, idempotency
from shared.pg import transactions
from shared.pg.pools import ShardPools
from shared.pg.unit_of_work import PgUnitOfWork

ENROLLMENT_COLUMNS = ("id, student_id, course_id, region, state, payment_state, progress_percent::float8, "
                      "course_title, course_price, course_currency, enrolled_at, completed_at, cancelled_at, "
                      "cancel_reason, updated_at")
# 5 arguments, then a NULL for each of the procedure's 23 OUT parameters (22 columns and the commit position).
ENROLL = "enrollments.Enroll"
RECORD_PROGRESS = "CALL record_lesson_progress_committed(%s, %s, %s, %s, %s" + ", NULL" * 23 + ")"
# A shard's part of a batch in one round trip (sql/migrations/0031, 0033): the request_id, the batch's
# fingerprint, the items' columns and which results' fields to return (Returned), then a NULL for each OUT
# parameter (the stored fingerprint, the 24 columns of the results as arrays, NULL for a field not returned,
# the commit position). An enrollment's columns, the costliest to read back and to convert, come only when asked.
BATCH_PROGRESS = ("CALL record_lesson_progress_batch_committed_returning(%s, %s, %s::integer[], %s::bigint[], "
                  "%s::bigint[], %s::integer[], %s::integer[], %s::boolean[], %s::smallint" + ", NULL" * 26 + ")")
PROGRESS_COLUMNS = ("enrollment_id, lesson_id, state, watched_seconds, last_position_seconds, updated_at, "
                    "completed_at")


class PgEnrollmentStore:
    """Reads go to a node the call's consistency allows; writes load and save in the service's unit of work,
    except RecordLessonProgress's, a procedure that commits by itself in one round trip."""

    def __init__(self, pools: ShardPools):
        self.pools = pools

    @staticmethod
    def _enrollment(cur, enrollment_id: int) -> Enrollment | None:
        cur.execute(f"SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE id = %s", (enrollment_id,))
        row = cur.fetchone()
        return Enrollment(*row) if row else None

    def enroll(self, tx: PgUnitOfWork, student_id: int, course: CourseSnapshot, request_id: str,
               fingerprint: bytes) -> tuple[Enrollment, bool]:
        """The enrollment, and whether this call created it (False: a replay of its request_id)."""
        cur = tx.cursor()
        enrollment_id, replay = idempotency.begin_create(cur, ENROLL, request_id, fingerprint)
        if replay:
            return self._enrollment(cur, replay.resource_id), False
        cur.execute("SELECT enroll_student(%s, %s, %s, %s, %s, %s, %s)",
                    (enrollment_id, student_id, course.course_id, course.title, course.price, course.currency,
                     list(course.lesson_ids)))
        return self._enrollment(cur, enrollment_id), True

    def withdraw(self, tx: PgUnitOfWork, enrollment_id: int, request_id: str) -> None:
        """Removes an enrollment that Enroll created but must not keep (its course closed meanwhile), with its
        progress and its idempotency key, so that a retry of the request is judged afresh."""
        cur = tx.cursor()
        cur.execute("DELETE FROM idempotency_keys WHERE method = %s AND request_id = %s AND resource_id = %s",
                    (ENROLL, request_id, enrollment_id))
        cur.execute("DELETE FROM enrollments WHERE id = %s", (enrollment_id,))

    def count_course_enrollments(self, shard: str, course_id: int) -> int:
        """This shard's enrollments of a course, any state, on its primary (a delete decision depends on it)."""
        with self.pools.read(shard, primary=True) as cur:
            cur.execute("SELECT count(*) FROM enrollments WHERE course_id = %s", (course_id,))
            return cur.fetchone()[0]

    def get(self, shard: str, enrollment_id: int) -> Enrollment | None:
        return self.pools.read_one(shard, lambda cur: self._enrollment(cur, enrollment_id))

    def list(self, shard: str, student_id: int, state: str, after: tuple[datetime, int] | None,
             limit: int) -> list[Enrollment]:
        clauses, params = ["student_id = %s"], [student_id]
        if state:
            clauses.append("state = %s")
            params.append(state)
        if after:
            clauses.append("(enrolled_at, id) > (%s, %s)")
            params.extend(after)
        with self.pools.read(shard) as cur:
            cur.execute(f"SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE " + " AND ".join(clauses) +
                        " ORDER BY enrolled_at, id LIMIT %s", (*params, limit))
            return [Enrollment(*r) for r in cur.fetchall()]

    def record_progress(self, shard: str, enrollment_id: int, lesson_id: int, watched: int, position: int,
                        completed: bool) -> tuple[LessonProgress, Enrollment]:
        """One round trip, the commit position included (the platform's hottest write)."""
        row = transactions.retrying(lambda: self.pools.committed_call(
            shard, RECORD_PROGRESS, (enrollment_id, lesson_id, watched, position, completed)))
        return LessonProgress(*row[:7]), Enrollment(*row[7:])

    def batch_record_progress(self, shard: str, items: list[tuple[int, ProgressItem]], request_id: str,
                              fingerprint: bytes, returned: Returned = Returned.ALL) -> list[BatchRow]:
        """This shard's part of a batch in one round trip, committed, its commit position in the call's token; a
        replay of `request_id` returns the stored results and writes nothing. Each row holds what `returned`
        asks for (None in place of the rest)."""
        indexes, parts = zip(*items, strict=True)
        enrollment_ids, lesson_ids, watched, positions, completed = zip(*parts, strict=True)
        stored, *columns = transactions.retrying(lambda: self.pools.committed_call(shard, BATCH_PROGRESS, (
            request_id, fingerprint, _array(indexes), _array(enrollment_ids), _array(lesson_ids), _array(watched),
            _array(positions), "{" + ",".join("t" if done else "f" for done in completed) + "}", int(returned))))
        if stored is not None:
            batches.check_replay(bytes(stored), fingerprint)  # another batch's request_id: nothing was written
        if returned is Returned.STATUS:
            return [(index, error, None, None) for index, error in zip(columns[0], columns[1], strict=True)]
        if returned is Returned.PROGRESS:
            return [(row[0], row[1], None if row[1] else LessonProgress(*row[2:9]), None)
                    for row in zip(*columns[:9], strict=True)]
        return _batch_rows(list(zip(*columns, strict=True)))

    def list_progress(self, shard: str, enrollment_id: int, after_lesson: int, limit: int) -> list[LessonProgress]:
        with self.pools.read(shard) as cur:
            cur.execute(f"SELECT {PROGRESS_COLUMNS} FROM lesson_progress WHERE enrollment_id = %s AND lesson_id > %s "
                        "ORDER BY lesson_id LIMIT %s", (enrollment_id, after_lesson, limit))
            return [LessonProgress(*r) for r in cur.fetchall()]

    def cancel(self, tx: PgUnitOfWork, enrollment_id: int, reason: str) -> Enrollment:
        cur = tx.cursor()
        cur.execute("SELECT cancel_enrollment(%s, %s)", (enrollment_id, reason))
        return self._enrollment(cur, enrollment_id)


def _array(numbers: Iterable[int]) -> str:
    """An array's text form for a cast (`%s::bigint[]`): a seventh of the driver's cost of adapting a list,
    element by element, which a batch pays for each of its columns."""
    return "{" + ",".join(map(str, numbers)) + "}"


def _batch_rows(rows: list[tuple]) -> list[BatchRow]:
    """The store's rows of a batch part, one Enrollment per enrollment: its items' rows repeat it (one
    statement read them all after the writes), and building one is most of a row's cost."""
    enrollments: dict[int, Enrollment] = {}
    made: list[BatchRow] = []
    for row in rows:
        if row[1]:
            made.append((row[0], row[1], None, None))
            continue
        enrollment = enrollments.get(row[9])
        if enrollment is None:
            enrollment = enrollments[row[9]] = Enrollment(*row[9:])
        made.append((row[0], None, LessonProgress(*row[2:9]), enrollment))
    return made
