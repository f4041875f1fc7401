"""PostgreSQL storage of courses: categories on every shard, courses and reviews on the course's shard."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from services.courses.domain import Category, Course, CourseDraft, CourseFilter, Lesson, Module, Review
from shared import idempotency
from shared.errors import NotFound
from shared.pg.pools import ShardPools
from shared.pg.unit_of_work import PgUnitOfWork

# A course claimed by a DeleteCourse reads as ARCHIVED: closed to enrollment until the claim is released.
COURSE_COLUMNS = ("id, instructor_id, region, category_id, title, subtitle, description, language, level, "
                  "price_amount, currency, CASE WHEN delete_claim IS NULL THEN state ELSE 'ARCHIVED' END, "
                  "average_rating::float8, review_count, duration_minutes, "
                  "created_at, updated_at, published_at")
CATEGORY_COLUMNS = "id, name, slug, description, coalesce(parent_id, 0), created_at"
REVIEW_COLUMNS = "id, course_id, student_id, rating, comment, created_at, updated_at"


SELECT_CATEGORY = f"SELECT {CATEGORY_COLUMNS} FROM course_categories WHERE id = %s"
SELECT_REVIEW = f"SELECT {REVIEW_COLUMNS} FROM course_reviews WHERE id = %s"
Row = TypeVar("Row")


def _by_id(cur, select: str, row_id: int, make: Callable[..., Row]) -> Row | None:
    cur.execute(select, (row_id,))
    row = cur.fetchone()
    return make(*row) if row else None


def _required(found: Row | None, what: str, row_id: int) -> Row:
    if found is None:
        raise NotFound(what, row_id)
    return found


def _course(row, modules: tuple[Module, ...] = ()) -> Course:
    return Course(*row, modules=modules)


def _outline_json(modules: Iterable[Module]) -> str:
    return json.dumps([{"title": m.title, "lessons": [
        {"title": lesson.title, "kind": lesson.kind, "duration_seconds": lesson.duration_seconds,
         "is_preview": lesson.is_preview}
        for lesson in m.lessons]} for m in modules])


class PgCourseStore:
    """Reads go to a node the call's consistency allows; writes load and save in the service's unit of work."""

    def __init__(self, pools: ShardPools):
        self.pools = pools

    # ---- categories ----------------------------------------------------------------------------
    def create_category(self, tx: PgUnitOfWork, shards: tuple[str, ...], name: str, slug: str, description: str,
                        parent_id: int, request_id: str, fingerprint: bytes) -> Category:
        """The category with the same ID on each of `shards` (a cross-shard unit of work), its request_id
        claimed on the unit's home shard."""
        cur = tx.cursor()
        category_id, replay = idempotency.begin_create(cur, "courses.CreateCategory", request_id, fingerprint)
        if replay:
            return self._category(cur, replay.resource_id)
        for shard in shards:
            tx.cursor(shard).execute("SELECT create_category(%s, %s, %s, %s, %s)",
                                     (category_id, name, slug, description, parent_id or None))
        return self._category(cur, category_id)

    @staticmethod
    def _category(cur, category_id: int) -> Category:
        return _required(_by_id(cur, SELECT_CATEGORY, category_id, Category), "category", category_id)

    def get_category(self, shard: str, category_id: int) -> Category | None:
        return self.pools.read_one(shard, lambda cur: _by_id(cur, SELECT_CATEGORY, category_id, Category))

    def list_categories(self, shard: str, after: tuple[datetime, int] | None, limit: int) -> list[Category]:
        where, params = ("WHERE (created_at, id) > (%s, %s)", after) if after else ("", ())
        with self.pools.read(shard) as cur:
            cur.execute(f"SELECT {CATEGORY_COLUMNS} FROM course_categories {where} ORDER BY created_at, id "
                        "LIMIT %s", (*params, limit))
            return [Category(*r) for r in cur.fetchall()]

    # ---- courses -------------------------------------------------------------------------------
    def create_course(self, tx: PgUnitOfWork, draft: CourseDraft, request_id: str, fingerprint: bytes) -> Course:
        cur = tx.cursor()
        course_id, replay = idempotency.begin_create(cur, "courses.CreateCourse", request_id, fingerprint)
        if replay:
            existing = self._course(cur, replay.resource_id)
            if existing is None:
                raise NotFound("course", replay.resource_id)  # created, then deleted
            return existing
        cur.execute("SELECT create_course(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (course_id, draft.instructor_id, draft.category_id, draft.title, draft.subtitle,
                     draft.description, draft.language, draft.level, draft.price, draft.currency,
                     _outline_json(draft.modules)))
        return self._course(cur, course_id)

    def _course(self, cur, course_id: int, with_outline: bool = True) -> Course | None:
        cur.execute(f"SELECT {COURSE_COLUMNS} FROM courses WHERE id = %s", (course_id,))
        row = cur.fetchone()
        if row is None:
            return None
        return _course(row, self._outline(cur, course_id) if with_outline else ())

    @staticmethod
    def _outline(cur, course_id: int) -> tuple[Module, ...]:
        cur.execute("SELECT m.id, m.title, m.position, l.id, l.title, l.position, l.kind, l.duration_seconds, "
                    "l.is_preview FROM course_modules m LEFT JOIN course_lessons l ON l.module_id = m.id "
                    "WHERE m.course_id = %s ORDER BY m.position, l.position", (course_id,))
        modules: dict[int, tuple[tuple, list[Lesson]]] = {}
        for mid, mtitle, mpos, lid, ltitle, lpos, kind, duration, preview in cur.fetchall():
            head, lessons = modules.setdefault(mid, ((mid, mtitle, mpos), []))
            if lid is not None:
                lessons.append(Lesson(id=lid, module_id=mid, title=ltitle, position=lpos, kind=kind,
                                      duration_seconds=duration, is_preview=preview))
        return tuple(Module(id=mid, course_id=course_id, title=title, position=pos, lessons=tuple(lessons))
                     for (mid, title, pos), lessons in modules.values())

    def get_course(self, shard: str, course_id: int) -> Course | None:
        return self.pools.read_one(shard, lambda cur: self._course(cur, course_id))

    def list_courses(self, shard: str, where: CourseFilter, after: tuple[datetime, int] | None,
                     limit: int) -> list[Course]:
        clauses, params = [], []
        for column, value in (("category_id", where.category_id), ("region", where.region),
                              ("instructor_id", where.instructor_id), ("state", where.state)):
            if value:
                clauses.append(f"{column} = %s")
                params.append(value)
        if where.drafts_of is not None:
            clauses.append("(state <> 'DRAFT' OR instructor_id = %s)")
            params.append(where.drafts_of)
        if after:
            clauses.append("(created_at, id) > (%s, %s)")
            params.extend(after)
        sql = f"SELECT {COURSE_COLUMNS} FROM courses"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        with self.pools.read(shard) as cur:
            cur.execute(sql + " ORDER BY created_at, id LIMIT %s", (*params, limit))
            return [_course(r) for r in cur.fetchall()]

    def lock_course_state(self, tx: PgUnitOfWork, course_id: int) -> str | None:
        """The course's stored state, its row locked until the unit of work ends; None when there is none."""
        cur = tx.cursor()
        cur.execute("SELECT state FROM courses WHERE id = %s FOR UPDATE", (course_id,))
        row = cur.fetchone()
        return row[0] if row else None

    def save_course(self, tx: PgUnitOfWork, course_id: int, changes: dict,
                    outline: tuple[Module, ...] | None) -> Course:
        """Writes the changed columns and, when given, the whole outline; returns the course as stored."""
        cur = tx.cursor()
        if changes:
            cur.execute("UPDATE courses SET " + ", ".join(f"{k} = %s" for k in changes) + " WHERE id = %s",
                        (*changes.values(), course_id))
        if outline is not None:
            cur.execute("SELECT replace_course_outline(%s, %s)", (course_id, _outline_json(outline)))
        return _required(self._course(cur, course_id), "course", course_id)

    def publish_course(self, tx: PgUnitOfWork, course_id: int) -> Course:
        cur = tx.cursor()
        cur.execute("SELECT publish_course(%s)", (course_id,))
        return _required(self._course(cur, course_id), "course", course_id)

    def claim_delete(self, tx: PgUnitOfWork, course_id: int, claim: uuid.UUID, *,
                     stale_after_s: float) -> bool | None:
        """Claims the course for one DeleteCourse: True, or False while another's fresh claim holds it, or
        None when there is no such course."""
        cur = tx.cursor()
        cur.execute("UPDATE courses SET delete_claim = %s, delete_claimed_at = now() WHERE id = %s AND "
                    "(delete_claim IS NULL OR delete_claimed_at < now() - make_interval(secs => %s))",
                    (str(claim), course_id, stale_after_s))
        if cur.rowcount == 1:
            return True
        cur.execute("SELECT 1 FROM courses WHERE id = %s", (course_id,))
        return False if cur.fetchone() else None

    def release_delete(self, tx: PgUnitOfWork, course_id: int, claim: uuid.UUID) -> None:
        """Reopens the course, unless another DeleteCourse has taken the claim over."""
        tx.cursor().execute("UPDATE courses SET delete_claim = NULL, delete_claimed_at = NULL "
                            "WHERE id = %s AND delete_claim = %s", (course_id, str(claim)))

    def delete_course(self, tx: PgUnitOfWork, course_id: int, claim: uuid.UUID) -> bool:
        """Deletes the course with its outline and reviews (ON DELETE CASCADE), if `claim` still holds it."""
        cur = tx.cursor()
        cur.execute("DELETE FROM courses WHERE id = %s AND delete_claim = %s", (course_id, str(claim)))
        return bool(cur.rowcount == 1)

    def enrollment_stats(self, shard: str, course_ids: list[int], *, primary: bool = False) -> list[tuple]:
        """This shard's (course_id, enrollments, completions, cancellations, progress_sum, progress_count)."""
        with self.pools.read(shard, primary=primary) as cur:
            cur.execute("SELECT * FROM course_enrollment_stats(%s)", (course_ids,))
            return cur.fetchall()

    def revenue(self, shard: str, course_id: int, currency: str) -> Decimal:
        """This shard's net revenue (paid charges minus refunds) of a course, in the course's currency."""
        with self.pools.read(shard) as cur:
            cur.execute("SELECT coalesce(sum(net_amount), 0) FROM course_revenue(%s) WHERE currency_code = %s",
                        ([course_id], currency))
            return cur.fetchone()[0]

    # ---- reviews -------------------------------------------------------------------------------
    def add_review(self, tx: PgUnitOfWork, course_id: int, student_id: int, rating: int, comment: str,
                   request_id: str, fingerprint: bytes) -> Review:
        cur = tx.cursor()
        review_id, replay = idempotency.begin_create(cur, "courses.AddReview", request_id, fingerprint)
        if replay:
            return self._review(cur, replay.resource_id)
        cur.execute("SELECT add_course_review(%s, %s, %s, %s, %s)", (review_id, course_id, student_id, rating, comment))
        return self._review(cur, review_id)

    @staticmethod
    def _review(cur, review_id: int) -> Review:
        return _required(_by_id(cur, SELECT_REVIEW, review_id, Review), "review", review_id)

    def list_reviews(self, shard: str, course_id: int, after: tuple[datetime, int] | None,
                     limit: int) -> list[Review]:
        where, params = ("AND (created_at, id) > (%s, %s)", after) if after else ("", ())
        with self.pools.read(shard) as cur:
            cur.execute(f"SELECT {REVIEW_COLUMNS} FROM course_reviews WHERE course_id = %s {where} "
                        "ORDER BY created_at, id LIMIT %s", (course_id, *params, limit))
            return [Review(*r) for r in cur.fetchall()]
