"""The rules of the courses service: validation, placement, the all-shards category write and the
cross-shard catalogue listing. No gRPC, no SQL."""
from __future__ import annotations

import dataclasses
import heapq
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from services.courses import rules
from services.courses.domain import (
    STATES,
    Category,
    Course,
    CourseDraft,
    CourseFilter,
    CourseStatistics,
    Module,
    Review,
)
from shared import field_masks, idempotency, money, pagination
from shared.auth import caller
from shared.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, Violations
from shared.fan_out import FanOut
from shared.sharding import ShardMap
from shared.unit_of_work import UnitOfWork, UnitsOfWork

# A claim older than this was left by a DeleteCourse that died; another one may take it over.
DELETE_CLAIM_STALE_S = 60.0
UPDATABLE = ("title", "subtitle", "description", "category_id", "language", "level", "price", "state", "modules")


class CourseStore(Protocol):
    """Storage of courses on the course's shard and of categories on every shard; `PgCourseStore` is the real
    one, unit tests use `tests/unit/courses_fakes.FakeCourseStore`. Writes load and save in the unit of work the
    service opened (for a category, one across every shard); reads take the shard."""

    def create_category(self, tx: UnitOfWork, shards: tuple[str, ...], name: str, slug: str, description: str,
                        parent_id: int, request_id: str, fingerprint: bytes) -> Category: ...

    def get_category(self, shard: str, category_id: int) -> Category | None: ...

    def list_categories(self, shard: str, after: tuple[datetime, int] | None, limit: int) -> list[Category]: ...

    def create_course(self, tx: UnitOfWork, draft: CourseDraft, request_id: str, fingerprint: bytes) -> Course: ...

    def get_course(self, shard: str, course_id: int) -> Course | None: ...

    def list_courses(self, shard: str, where: CourseFilter, after: tuple[datetime, int] | None,
                     limit: int) -> list[Course]: ...

    def lock_course_state(self, tx: UnitOfWork, course_id: int) -> str | None: ...

    def save_course(self, tx: UnitOfWork, course_id: int, changes: dict,
                    outline: tuple[Module, ...] | None) -> Course: ...

    def publish_course(self, tx: UnitOfWork, course_id: int) -> Course: ...

    def claim_delete(self, tx: UnitOfWork, course_id: int, claim: uuid.UUID, *,
                     stale_after_s: float) -> bool | None: ...

    def release_delete(self, tx: UnitOfWork, course_id: int, claim: uuid.UUID) -> None: ...

    def delete_course(self, tx: UnitOfWork, course_id: int, claim: uuid.UUID) -> bool: ...

    def enrollment_stats(self, shard: str, course_ids: list[int], *, primary: bool = False) -> list[tuple]: ...

    def revenue(self, shard: str, course_id: int, currency: str) -> Decimal: ...

    def add_review(self, tx: UnitOfWork, course_id: int, student_id: int, rating: int, comment: str,
                   request_id: str, fingerprint: bytes) -> Review: ...

    def list_reviews(self, shard: str, course_id: int, after: tuple[datetime, int] | None,
                     limit: int) -> list[Review]: ...


class EnrollmentChecker(Protocol):
    """Asks the enrollments service whether a student holds an enrollment in a course, and how many
    enrollments a course has."""

    def is_enrolled(self, student_id: int, course_id: int) -> bool: ...

    def count_enrollments(self, course_id: int) -> int: ...


class CourseService:
    def __init__(self, store: CourseStore, shard_map: ShardMap, enrollments: EnrollmentChecker, fan_out: FanOut, *,
                 units: UnitsOfWork):
        self.store = store
        self.units = units
        self.shards = shard_map
        self.enrollments = enrollments
        self.fan_out = fan_out

    # ---- categories ----------------------------------------------------------------------------
    @property
    def _reference_shard(self) -> str:
        return self.shards.shards[0].name

    def create_category(self, name: str, slug: str, description: str, parent_id: int,
                        request_id: str) -> Category:
        violations = Violations()
        name = rules.text(name, "category.name", violations, limit=100)
        slug = rules.slug(slug, "category.slug", violations)
        description = rules.text(description, "category.description", violations, required=False, limit=2000)
        if parent_id < 0:
            violations.add("category.parent_id", "must be a category ID or 0")
        violations.raise_if_any()
        idempotency.check_request_id(request_id)
        fingerprint = idempotency.fingerprint({"name": name, "slug": slug, "description": description,
                                               "parent_id": parent_id})
        return self.units.across(self._reference_shard, lambda tx: self.store.create_category(
            tx, self.shards.names, name, slug, description, parent_id, request_id, fingerprint))

    def get_category(self, category_id: int) -> Category:
        if category_id <= 0:
            raise InvalidArgument("id", "must be a positive ID")
        category = self.store.get_category(self._reference_shard, category_id)
        if category is None:
            raise NotFound("category", category_id)
        return category

    def list_categories(self, page_size: int, page_token: str) -> tuple[list[Category], str]:
        limit = pagination.page_size(page_size)
        query = {"method": "ListCategories"}
        after = pagination.decode_time_key(page_token, query)
        rows = self.store.list_categories(self._reference_shard, after, limit + 1)
        return pagination.time_keyset_page(rows, limit, query)

    # ---- courses -------------------------------------------------------------------------------
    def _draft(self, instructor_id: int, category_id: int, title: str, subtitle: str, description: str,
               language: str, level: str, amount: str, currency: str, modules: list[Module],
               violations: Violations) -> CourseDraft:
        if category_id <= 0:
            violations.add("course.category_id", "is required")
        price, currency = money.check(amount, currency, "course.price", violations)
        return CourseDraft(
            instructor_id=instructor_id, category_id=category_id,
            title=rules.text(title, "course.title", violations),
            subtitle=rules.text(subtitle, "course.subtitle", violations, required=False, limit=300),
            description=rules.text(description, "course.description", violations, required=False, limit=20000),
            language=rules.language(language, "course.language", violations),
            level=rules.level(level, "course.level", violations), price=price, currency=currency,
            modules=rules.outline(modules, "course.modules", violations))

    def create_course(self, instructor_id: int, category_id: int, title: str, subtitle: str, description: str,
                      language: str, level: str, amount: str, currency: str, modules: list[Module],
                      request_id: str) -> Course:
        violations = Violations()
        try:
            shard = self.shards.for_id(instructor_id, field="course.instructor_id").name
        except InvalidArgument as exc:
            violations.items.extend(exc.violations)
        draft = self._draft(instructor_id, category_id, title, subtitle, description, language, level, amount,
                            currency, modules, violations)
        violations.raise_if_any()
        idempotency.check_request_id(request_id)
        fingerprint = idempotency.fingerprint({**draft.__dict__, "modules": repr(draft.modules)})
        return self.units.write(shard, lambda tx: self.store.create_course(tx, draft, request_id, fingerprint))

    def get_course(self, course_id: int) -> Course:
        course = self.store.get_course(self.shards.for_id(course_id).name, course_id)
        if course is None or (course.state == "DRAFT" and not caller.current().privileged
                              and course.instructor_id != caller.current().user_id):
            raise NotFound("course", course_id)  # a draft is its instructor's until published
        return self.with_enrollment_counts([course])[0]

    def _own(self, shard: str, course_id: int) -> None:
        """An instructor manages only their own courses; someone else's reads as not existing."""
        owner = caller.bound_user()
        if owner is not None:
            course = self.store.get_course(shard, course_id)
            caller.require_owner(course.instructor_id if course else -1, "course", course_id)

    def list_courses(self, category_id: int, region: str, instructor_id: int, state: str, page_size: int,
                     page_token: str) -> tuple[list[Course], str]:
        """Every matching course across all shards, in (created_at, id) order, a keyset page at a time."""
        limit = pagination.page_size(page_size)
        shards = self.shards.names
        if region:
            shards = (self.shards.for_region(region).name,)
        if instructor_id:
            home = self.shards.for_id(instructor_id, field="instructor_id").name
            shards = tuple(s for s in shards if s == home)
        if state and state not in STATES:
            raise InvalidArgument("state", f"unknown state {state!r}")
        who = caller.current()
        where = CourseFilter(category_id=category_id, region=region, instructor_id=instructor_id, state=state,
                             drafts_of=None if who.privileged else who.user_id)
        query = {"method": "ListCourses", **where.__dict__}
        after = pagination.decode_time_key(page_token, query)
        pages = list(self.fan_out.map(lambda s: self.store.list_courses(s, where, after, limit + 1), shards))
        merged = list(heapq.merge(*pages, key=lambda c: (c.created_at, c.id)))
        rows, token = pagination.time_keyset_page(merged, limit, query)
        return self.with_enrollment_counts(rows), token

    def update_course(self, course_id: int, paths: Iterable[str], title: str, subtitle: str, description: str,
                      category_id: int, language: str, level: str, amount: str, currency: str, state: str,
                      modules: list[Module]) -> Course:
        shard = self.shards.for_id(course_id, field="course.id").name
        mask = field_masks.resolve(paths, UPDATABLE, messages=("price",))
        violations = Violations()
        changes: dict = {}
        if "title" in mask:
            changes["title"] = rules.text(title, "course.title", violations)
        if "subtitle" in mask:
            changes["subtitle"] = rules.text(subtitle, "course.subtitle", violations, required=False, limit=300)
        if "description" in mask:
            changes["description"] = rules.text(description, "course.description", violations, required=False,
                                                limit=20000)
        if "category_id" in mask:
            if category_id <= 0:
                violations.add("course.category_id", "is required")
            changes["category_id"] = category_id
        if "language" in mask:
            changes["language"] = rules.language(language, "course.language", violations)
        if "level" in mask:
            changes["level"] = rules.level(level, "course.level", violations)
        if mask & {"price", "price.amount", "price.currency_code"}:
            changes["price_amount"], changes["currency"] = money.check(amount, currency, "course.price", violations)
        archive = "state" in mask
        if archive and state != "ARCHIVED":
            violations.add("course.state", "can only be set to ARCHIVED (use PublishCourse to publish)")
        outline = rules.outline(modules, "course.modules", violations) if "modules" in mask else None
        violations.raise_if_any()
        self._own(shard, course_id)

        def body(tx: UnitOfWork) -> Course:
            stored_state = self.store.lock_course_state(tx, course_id)
            if stored_state is None:
                raise NotFound("course", course_id)
            if archive:
                rules.check_archivable(stored_state)
            return self.store.save_course(tx, course_id, {**changes, "state": "ARCHIVED"} if archive else changes,
                                          outline)

        return self.units.write(shard, body)

    def enrollment_counts(self, course_ids: list[int], *, primary: bool = False) -> dict[int, int]:
        """Enrollments (any state) per course, summed over every shard (students live everywhere)."""
        if not course_ids:
            return {}
        counts: dict[int, int] = dict.fromkeys(course_ids, 0)
        per_shard = self.fan_out.map(lambda s: self.store.enrollment_stats(s, course_ids, primary=primary),
                                     self.shards.names)
        for rows in per_shard:
            for course_id, enrollments, *_rest in rows:
                counts[course_id] += enrollments
        return counts

    def with_enrollment_counts(self, courses: list[Course]) -> list[Course]:
        counts = self.enrollment_counts([c.id for c in courses])
        return [dataclasses.replace(c, enrollment_count=counts[c.id]) for c in courses]

    def statistics(self, course_id: int) -> CourseStatistics:
        """Enrollment, progress, rating and revenue figures, gathered at read time from every shard."""
        self._own(self.shards.for_id(course_id, field="course_id").name, course_id)
        course = self.get_course(course_id)
        enrollments = completions = cancellations = progress_n = 0
        progress_sum = Decimal(0)
        for rows in self.fan_out.map(lambda s: self.store.enrollment_stats(s, [course_id]), self.shards.names):
            for _id, total, completed, cancelled, p_sum, p_n in rows:
                enrollments, completions, cancellations = (enrollments + total, completions + completed,
                                                           cancellations + cancelled)
                progress_sum, progress_n = progress_sum + p_sum, progress_n + p_n
        revenue = sum(self.fan_out.map(lambda s: self.store.revenue(s, course_id, course.currency),
                                       self.shards.names), Decimal(0))
        return CourseStatistics(
            course_id=course_id, enrollment_count=enrollments, completion_count=completions,
            cancellation_count=cancellations,
            average_progress_percent=float(round(progress_sum / progress_n, 2)) if progress_n else 0.0,
            average_rating=course.average_rating, review_count=course.review_count, revenue=revenue,
            currency=course.currency)

    def delete_course(self, course_id: int) -> None:
        """Deletes a course that no student is enrolled in (any state), with its outline and reviews.

        DeleteCourse's half of the protocol with Enroll (README: "DeleteCourse racing Enroll"): claim the
        course, which closes it to enrollment (committed); then ask the enrollments service for its
        enrollments; delete only while the claim holds, else release it.
        """
        shard = self.shards.for_id(course_id).name
        self._own(shard, course_id)
        claim = uuid.uuid4()
        claimed = self.units.write(shard, lambda tx: self.store.claim_delete(
            tx, course_id, claim, stale_after_s=DELETE_CLAIM_STALE_S))
        if claimed is None:
            raise NotFound("course", course_id)
        if not claimed:
            raise Aborted(f"another DeleteCourse of course {course_id} is in progress; retry",
                          reason="CONCURRENT_DELETE")
        try:
            enrolled = self.enrollments.count_enrollments(course_id)
        except BaseException:
            self._release(shard, course_id, claim)
            raise
        if enrolled:
            self._release(shard, course_id, claim)
            raise FailedPrecondition(f"course {course_id} has {enrolled} enrollment(s); archive it instead",
                                     reason="COURSE_HAS_ENROLLMENTS")
        if not self.units.write(shard, lambda tx: self.store.delete_course(tx, course_id, claim)):
            raise Aborted(f"course {course_id} was claimed by another DeleteCourse meanwhile; retry",
                          reason="CONCURRENT_DELETE")

    def _release(self, shard: str, course_id: int, claim: uuid.UUID) -> None:
        self.units.write(shard, lambda tx: self.store.release_delete(tx, course_id, claim))

    def publish_course(self, course_id: int) -> Course:
        shard = self.shards.for_id(course_id).name
        self._own(shard, course_id)
        return self.units.write(shard, lambda tx: self.store.publish_course(tx, course_id))

    # ---- reviews -------------------------------------------------------------------------------
    def add_review(self, course_id: int, student_id: int, rating: int, comment: str, request_id: str) -> Review:
        violations = Violations()
        try:
            shard = self.shards.for_id(course_id, field="course_id").name
        except InvalidArgument as exc:
            violations.items.extend(exc.violations)
        try:
            self.shards.for_id(student_id, field="review.student_id")
        except InvalidArgument as exc:
            violations.items.extend(exc.violations)
        rules.rating(rating, "review.rating", violations)
        comment = rules.text(comment, "review.comment", violations, required=False, limit=5000)
        violations.raise_if_any()
        idempotency.check_request_id(request_id)
        if not self.enrollments.is_enrolled(student_id, course_id):
            raise FailedPrecondition(f"student {student_id} is not enrolled in course {course_id}",
                                     reason="NOT_ENROLLED")
        fingerprint = idempotency.fingerprint({"course_id": course_id, "student_id": student_id,
                                               "rating": rating, "comment": comment})
        return self.units.write(shard, lambda tx: self.store.add_review(tx, course_id, student_id, rating, comment,
                                                                        request_id, fingerprint))

    def list_reviews(self, course_id: int, page_size: int, page_token: str) -> tuple[list[Review], str]:
        shard = self.shards.for_id(course_id, field="course_id").name
        limit = pagination.page_size(page_size)
        query = {"method": "ListReviews", "course_id": course_id}
        after = pagination.decode_time_key(page_token, query)
        rows = self.store.list_reviews(shard, course_id, after, limit + 1)
        return pagination.time_keyset_page(rows, limit, query)
