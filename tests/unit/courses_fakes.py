"""In-memory fakes of the courses service's ports (CourseStore, EnrollmentChecker) for unit tests.

The store keeps categories on every shard and courses and reviews on the course's shard, as `PgCourseStore`
does, and follows the schema's rules the service relies on (sql/migrations/0004, 0010): unique category slugs,
a course published only with a lesson, one review per student, a claimed course reads as ARCHIVED. Writes take
the service's unit of work (`tests/unit/fake_units.FakeUnitsOfWork`), which undoes them when the body raises.
That the real store and the schema do the same is the integration tests' job.
"""
from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.courses.domain import Category, Course, CourseDraft, CourseFilter, Lesson, Module, Review
from shared import ids
from shared.errors import AlreadyExists, FailedPrecondition, NotFound
from shared.sharding import ShardMap
from tests.unit.fake_keys import FakeKeys
from tests.unit.fake_units import FakeUnitOfWork

START = datetime(2026, 3, 1, tzinfo=UTC)


class FakeCourseStore:
    def __init__(self, shard_map: ShardMap):
        self.shard_map = shard_map
        names = shard_map.names
        self.calls: list[tuple[str, str]] = []
        self.categories: dict[str, dict[int, Category]] = {n: {} for n in names}
        self.courses: dict[str, dict[int, Course]] = {n: {} for n in names}
        self.claims: dict[int, uuid.UUID] = {}
        self.reviews: dict[str, dict[int, Review]] = {n: {} for n in names}
        self.stats: dict[str, list[tuple]] = {n: [] for n in names}  # what course_enrollment_stats answers
        self.revenues: dict[str, Decimal] = {n: Decimal(0) for n in names}
        self.keys = {n: FakeKeys() for n in names}
        self._clock = START
        self._sequence = 0

    def _new(self, shard: str) -> tuple[int, datetime]:
        self._sequence += 1
        self._clock += timedelta(seconds=1)
        number = self.shard_map.by_name(shard).number
        return ids.encode(ids.EPOCH_MS + 1000 + self._sequence, number, self._sequence), self._clock

    # ---- categories ----------------------------------------------------------------------------
    def create_category(self, tx: FakeUnitOfWork, shards: tuple[str, ...], name: str, slug: str, description: str,
                        parent_id: int, request_id: str, fingerprint: bytes) -> Category:
        home = tx.shard
        self.calls.append(("create_category", home))
        category_id, now = self._new(home)
        replay = self.keys[home].claim("courses.CreateCategory", request_id, fingerprint, category_id)
        if replay is not None:
            return self.categories[home][replay.resource_id]
        if any(c.slug == slug for c in self.categories[home].values()):
            raise AlreadyExists("category", "slug")
        if parent_id and parent_id not in self.categories[home]:
            raise FailedPrecondition("the parent category does not exist", reason="PARENT_CATEGORY_NOT_FOUND")
        category = Category(category_id, name, slug, description, parent_id, now)
        for shard in shards:
            self.categories[shard][category_id] = category
        return category

    def get_category(self, shard: str, category_id: int) -> Category | None:
        self.calls.append(("get_category", shard))
        return self.categories[shard].get(category_id)

    def list_categories(self, shard: str, after: tuple[datetime, int] | None, limit: int) -> list[Category]:
        self.calls.append(("list_categories", shard))
        rows = sorted((c for c in self.categories[shard].values() if after is None or (c.created_at, c.id) > after),
                      key=lambda c: (c.created_at, c.id))
        return rows[:limit]

    # ---- courses -------------------------------------------------------------------------------
    def create_course(self, tx: FakeUnitOfWork, draft: CourseDraft, request_id: str, fingerprint: bytes) -> Course:
        shard = tx.shard
        self.calls.append(("create_course", shard))
        course_id, now = self._new(shard)
        replay = self.keys[shard].claim("courses.CreateCourse", request_id, fingerprint, course_id)
        if replay is not None:
            existing = self.courses[shard].get(replay.resource_id)
            if existing is None:
                raise NotFound("course", replay.resource_id)
            return existing
        course = Course(id=course_id, instructor_id=draft.instructor_id, region="", category_id=draft.category_id,
                        title=draft.title, subtitle=draft.subtitle, description=draft.description,
                        language=draft.language, level=draft.level, price=draft.price, currency=draft.currency,
                        state="DRAFT", average_rating=0.0, review_count=0, duration_minutes=0, created_at=now,
                        updated_at=now, published_at=None, modules=_numbered(course_id, draft.modules))
        self.courses[shard][course_id] = course
        return course

    def get_course(self, shard: str, course_id: int) -> Course | None:
        self.calls.append(("get_course", shard))
        course = self.courses[shard].get(course_id)
        if course is not None and course_id in self.claims:
            return dataclasses.replace(course, state="ARCHIVED")
        return course

    def list_courses(self, shard: str, where: CourseFilter, after: tuple[datetime, int] | None,
                     limit: int) -> list[Course]:
        self.calls.append(("list_courses", shard))

        def matches(c: Course) -> bool:
            return all(not want or have == want for have, want in (
                (c.category_id, where.category_id), (c.region, where.region),
                (c.instructor_id, where.instructor_id), (c.state, where.state))) and (
                where.drafts_of is None or c.state != "DRAFT" or c.instructor_id == where.drafts_of)

        rows = sorted((dataclasses.replace(c, modules=()) for c in self.courses[shard].values()
                       if matches(c) and (after is None or (c.created_at, c.id) > after)),
                      key=lambda c: (c.created_at, c.id))
        return rows[:limit]

    def lock_course_state(self, tx: FakeUnitOfWork, course_id: int) -> str | None:
        self.calls.append(("lock_course_state", tx.shard))
        course = self.courses[tx.shard].get(course_id)
        return course.state if course else None

    def save_course(self, tx: FakeUnitOfWork, course_id: int, changes: dict,
                    outline: tuple[Module, ...] | None) -> Course:
        shard = tx.shard
        self.calls.append(("save_course", shard))
        course = self.courses[shard][course_id]
        fields = {("price" if k == "price_amount" else k): v for k, v in changes.items()}
        updated = dataclasses.replace(course, **fields,
                                      modules=course.modules if outline is None else _numbered(course_id, outline),
                                      updated_at=self._new(shard)[1])
        self.courses[shard][course_id] = updated
        return updated

    def publish_course(self, tx: FakeUnitOfWork, course_id: int) -> Course:
        shard = tx.shard
        self.calls.append(("publish_course", shard))
        course = self.courses[shard].get(course_id)
        if course is None:
            raise NotFound("course", course_id)
        if course.state != "PUBLISHED":
            if not any(m.lessons for m in course.modules):
                raise FailedPrecondition("a course needs at least one module with one lesson to be published",
                                         reason="FAILED_PRECONDITION")
            course = dataclasses.replace(course, state="PUBLISHED", published_at=course.published_at or self._clock)
            self.courses[shard][course_id] = course
        return course

    def claim_delete(self, tx: FakeUnitOfWork, course_id: int, claim: uuid.UUID, *,
                     stale_after_s: float) -> bool | None:
        shard = tx.shard
        self.calls.append(("claim_delete", shard))
        if course_id not in self.courses[shard]:
            return None
        if course_id in self.claims:
            return False  # the fake's claims never go stale
        self.claims[course_id] = claim
        return True

    def release_delete(self, tx: FakeUnitOfWork, course_id: int, claim: uuid.UUID) -> None:
        self.calls.append(("release_delete", tx.shard))
        if self.claims.get(course_id) == claim:
            del self.claims[course_id]

    def delete_course(self, tx: FakeUnitOfWork, course_id: int, claim: uuid.UUID) -> bool:
        shard = tx.shard
        self.calls.append(("delete_course", shard))
        if self.claims.get(course_id) != claim:
            return False
        del self.claims[course_id], self.courses[shard][course_id]
        for review_id in [r.id for r in self.reviews[shard].values() if r.course_id == course_id]:
            del self.reviews[shard][review_id]
        return True

    def enrollment_stats(self, shard: str, course_ids: list[int], *, primary: bool = False) -> list[tuple]:
        self.calls.append(("enrollment_stats", shard))
        return [row for row in self.stats[shard] if row[0] in course_ids]

    def revenue(self, shard: str, course_id: int, currency: str) -> Decimal:
        self.calls.append(("revenue", shard))
        return self.revenues[shard]

    # ---- reviews -------------------------------------------------------------------------------
    def add_review(self, tx: FakeUnitOfWork, course_id: int, student_id: int, rating: int, comment: str,
                   request_id: str, fingerprint: bytes) -> Review:
        shard = tx.shard
        self.calls.append(("add_review", shard))
        review_id, now = self._new(shard)
        replay = self.keys[shard].claim("courses.AddReview", request_id, fingerprint, review_id)
        if replay is not None:
            return self.reviews[shard][replay.resource_id]
        course = self.courses[shard].get(course_id)
        failure: Exception | None = None
        if course is None:
            failure = NotFound("course", course_id)
        elif course.state == "DRAFT":
            failure = FailedPrecondition("a DRAFT course cannot be reviewed", reason="FAILED_PRECONDITION")
        elif any(r.course_id == course_id and r.student_id == student_id for r in self.reviews[shard].values()):
            failure = AlreadyExists("review", "student_id")
        if failure is not None:
            raise failure
        review = Review(review_id, course_id, student_id, rating, comment, now, now)
        self.reviews[shard][review_id] = review
        mine = [r.rating for r in self.reviews[shard].values() if r.course_id == course_id]
        self.courses[shard][course_id] = dataclasses.replace(
            course, average_rating=round(sum(mine) / len(mine), 2), review_count=len(mine))
        return review

    def list_reviews(self, shard: str, course_id: int, after: tuple[datetime, int] | None,
                     limit: int) -> list[Review]:
        self.calls.append(("list_reviews", shard))
        rows = sorted((r for r in self.reviews[shard].values() if r.course_id == course_id
                       and (after is None or (r.created_at, r.id) > after)), key=lambda r: (r.created_at, r.id))
        return rows[:limit]


def _numbered(course_id: int, modules: tuple[Module, ...]) -> tuple[Module, ...]:
    """The outline as the schema stores it: modules and lessons numbered and positioned in order."""
    numbered, next_lesson = [], 1
    for m_pos, module in enumerate(modules, 1):
        lessons = []
        for l_pos, lesson in enumerate(module.lessons, 1):
            lessons.append(Lesson(lesson.title, lesson.kind, lesson.duration_seconds, lesson.is_preview,
                                  id=course_id * 1000 + next_lesson, module_id=course_id * 100 + m_pos,
                                  position=l_pos))
            next_lesson += 1
        numbered.append(Module(module.title, tuple(lessons), id=course_id * 100 + m_pos, course_id=course_id,
                               position=m_pos))
    return tuple(numbered)


class FakeEnrollments:
    """The enrollments service as the courses service asks it: who is enrolled where, counts per course."""

    def __init__(self) -> None:
        self.enrolled: set[tuple[int, int]] = set()

    def is_enrolled(self, student_id: int, course_id: int) -> bool:
        return (student_id, course_id) in self.enrolled

    def count_enrollments(self, course_id: int) -> int:
        return sum(c == course_id for _, c in self.enrolled)
