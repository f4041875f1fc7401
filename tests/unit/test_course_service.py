"""The courses service over in-memory fakes: placement on the instructor's shard, categories on every shard,
bad input named before any write, drafts private to their instructor, ownership, archiving, reviews only by
enrolled students, the catalogue merged from every shard a keyset page at a time, statistics summed."""
from __future__ import annotations

from decimal import Decimal

import pytest

from services.courses.domain import Lesson, Module
from services.courses.service import CourseService
from shared.auth.caller import Caller, acting_as
from shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from tests.unit.courses_fakes import FakeCourseStore, FakeEnrollments
from tests.unit.fake_units import FakeUnitsOfWork
from tests.unit.unit_helpers import Serial, an_id

OUTLINE = [Module("Basics", (Lesson("Hello", "VIDEO", 60), Lesson("Quiz", "QUIZ", 0)))]




@pytest.fixture
def store(shard_map) -> FakeCourseStore:
    return FakeCourseStore(shard_map)


@pytest.fixture
def enrollments() -> FakeEnrollments:
    return FakeEnrollments()


@pytest.fixture
def units(store) -> FakeUnitsOfWork:
    return FakeUnitsOfWork(store)


@pytest.fixture
def service(store, shard_map, enrollments, units) -> CourseService:
    return CourseService(store, shard_map, enrollments, Serial(), units=units)


def create(service, shard_map, shard="eu", sequence=1, **overrides):
    args = dict(instructor_id=an_id(shard_map, shard, sequence), category_id=5, title=" Python ", subtitle="",
                description="", language="en", level="BEGINNER", amount="19.9", currency="eur", modules=OUTLINE,
                request_id="")
    args.update(overrides)
    return service.create_course(**args)


def fields(caught) -> set[str]:
    return {v.field for v in caught.value.violations}


def test_a_course_goes_to_its_instructors_shard_with_a_numbered_outline(service, store, shard_map):
    course = create(service, shard_map, "apac")
    assert store.calls == [("create_course", "apac")]
    assert (course.title, course.price, course.currency, course.state) == ("Python", Decimal("19.90"), "EUR",
                                                                           "DRAFT")
    assert [lesson.position for lesson in course.modules[0].lessons] == [1, 2]


def test_every_bad_field_is_named_before_any_write(service, store, shard_map):
    bad = [Module("", (Lesson("", "VIDEO", 0), Lesson("x", "PODCAST", 1)))]
    with pytest.raises(InvalidArgument) as caught:
        create(service, shard_map, instructor_id=0, category_id=0, title="", language="english!", level="",
               amount="-1", currency="xyz", modules=bad)
    assert fields(caught) >= {"course.instructor_id", "course.category_id", "course.title", "course.language",
                              "course.level", "course.price.currency_code", "course.modules[0].title",
                              "course.modules[0].lessons[0].title", "course.modules[0].lessons[0].duration_seconds",
                              "course.modules[0].lessons[1].kind"}
    assert store.calls == []


def test_a_replayed_create_returns_the_same_course_and_a_changed_one_is_refused(service, shard_map, store):
    first = create(service, shard_map, request_id="req-1")
    assert create(service, shard_map, request_id="req-1") == first
    with pytest.raises(InvalidArgument) as caught:
        create(service, shard_map, request_id="req-1", title="Another")
    assert caught.value.reason == "REQUEST_ID_REUSED" and len(store.courses["eu"]) == 1


def test_a_category_is_written_to_every_shard_and_its_slug_is_unique(service, store):
    category = service.create_category("Data", "data-science", "", 0, "")
    assert all(category.id in store.categories[s] for s in ("na", "eu", "apac"))
    assert service.get_category(category.id) == category
    with pytest.raises(AlreadyExists):
        service.create_category("Data 2", "data-science", "", 0, "")
    with pytest.raises(InvalidArgument) as caught:
        service.create_category("", "Not A Slug", "", -1, "")
    assert fields(caught) == {"category.name", "category.slug", "category.parent_id"}


def test_a_draft_is_its_instructors_until_published(service, shard_map):
    course = create(service, shard_map)
    with acting_as(Caller.user(an_id(shard_map, "eu", 2), "STUDENT")):
        with pytest.raises(NotFound):
            service.get_course(course.id)
        assert service.list_courses(0, "", 0, "", 10, "")[0] == []
    with acting_as(Caller.user(course.instructor_id, "INSTRUCTOR")):
        assert service.get_course(course.id).id == course.id
    service.publish_course(course.id)
    with acting_as(Caller.user(an_id(shard_map, "eu", 2), "STUDENT")):
        assert service.get_course(course.id).state == "PUBLISHED"


def test_another_instructors_course_reads_as_missing_and_is_not_changed(service, store, shard_map):
    course = create(service, shard_map)
    with acting_as(Caller.user(an_id(shard_map, "eu", 3), "INSTRUCTOR")):
        for call in (lambda: service.publish_course(course.id), lambda: service.delete_course(course.id),
                     lambda: service.update_course(course.id, ["title"], "Mine", "", "", 0, "", "", "", "", "",
                                                   [])):
            with pytest.raises(NotFound):
                call()
    assert store.courses["eu"][course.id] == course and not store.claims


def test_only_a_published_course_is_archived_and_only_archived_is_accepted(service, shard_map):
    course = create(service, shard_map)
    archive = dict(paths=["state"], title="", subtitle="", description="", category_id=0, language="", level="",
                   amount="", currency="", modules=[])
    with pytest.raises(InvalidArgument) as caught:
        service.update_course(course.id, **{**archive, "state": "DRAFT"})
    assert fields(caught) == {"course.state"}
    with pytest.raises(FailedPrecondition) as refused:
        service.update_course(course.id, **archive, state="ARCHIVED")
    assert refused.value.reason == "COURSE_NOT_PUBLISHED"
    service.publish_course(course.id)
    assert service.update_course(course.id, **archive, state="ARCHIVED").state == "ARCHIVED"


def test_a_refused_archive_writes_none_of_the_other_changes_of_its_update(service, store, units, shard_map):
    course = create(service, shard_map)
    store.calls.clear()
    with pytest.raises(FailedPrecondition):
        service.update_course(course.id, ["title", "state"], "Renamed", "", "", 0, "", "", "", "", "ARCHIVED", [])
    assert store.courses["eu"][course.id].title == "Python"
    assert units.opened[-1] == ("write", "eu") and store.calls == [("lock_course_state", "eu")]


def test_an_update_that_lost_a_race_runs_again_whole_in_a_new_unit_of_work(service, store, units, shard_map):
    course = create(service, shard_map)
    service.publish_course(course.id)
    units.opened.clear()
    units.lose_races(2)
    updated = service.update_course(course.id, ["title", "state"], "Renamed", "", "", 0, "", "", "", "", "ARCHIVED",
                                    [])
    assert (updated.title, updated.state) == ("Renamed", "ARCHIVED") == (store.courses["eu"][course.id].title,
                                                                          store.courses["eu"][course.id].state)
    assert units.opened == [("write", "eu")] * 3 and units.rolled_back == 2


def test_a_category_refused_on_its_slug_leaves_its_request_id_unclaimed(service, store, units):
    service.create_category("Web", "web", "", 0, request_id="first")
    with pytest.raises(AlreadyExists):
        service.create_category("Web again", "web", "", 0, request_id="second")
    assert units.opened[-1] == ("across", "na") and units.rolled_back == 1
    assert all(("courses.CreateCategory", "second") not in keys.creates for keys in store.keys.values())


def test_a_course_without_lessons_cannot_be_published(service, shard_map):
    course = create(service, shard_map, modules=[])
    with pytest.raises(FailedPrecondition):
        service.publish_course(course.id)


def test_only_an_enrolled_student_reviews_and_only_once(service, enrollments, shard_map):
    course = create(service, shard_map)
    service.publish_course(course.id)
    student = an_id(shard_map, "na", 4)
    with pytest.raises(FailedPrecondition) as caught:
        service.add_review(course.id, student, 5, "", "")
    assert caught.value.reason == "NOT_ENROLLED"
    enrollments.enrolled.add((student, course.id))
    review = service.add_review(course.id, student, 4, " Good ", "")
    assert (review.rating, review.comment) == (4, "Good")
    with pytest.raises(AlreadyExists):
        service.add_review(course.id, student, 3, "", "")
    with pytest.raises(InvalidArgument) as bad:
        service.add_review(0, 0, 6, "", "")
    assert fields(bad) == {"course_id", "review.student_id", "review.rating"}


def test_the_catalogue_pages_across_shards_in_creation_order_each_course_once(service, shard_map):
    made = [create(service, shard_map, shard, n).id for n, shard in enumerate(["na", "eu", "apac"] * 3, 1)]
    for course_id in made:
        service.publish_course(course_id)
    seen, token = [], ""
    while True:
        rows, token = service.list_courses(0, "", 0, "", 2, token)
        seen += [c.id for c in rows]
        if not token:
            break
    assert seen == made
    eu_only, _ = service.list_courses(0, "EUROPE", 0, "", 50, "")
    assert {shard_map.for_id(c.id).name for c in eu_only} <= {"eu"}


def test_statistics_sum_every_shards_part(service, store, shard_map):
    course = create(service, shard_map)
    store.stats["na"] = [(course.id, 2, 1, 0, Decimal(150), 2)]
    store.stats["apac"] = [(course.id, 3, 0, 1, Decimal(60), 2)]
    store.revenues.update(na=Decimal("19.90"), apac=Decimal("39.80"))
    stats = service.statistics(course.id)
    assert (stats.enrollment_count, stats.completion_count, stats.cancellation_count) == (5, 1, 1)
    assert (stats.average_progress_percent, stats.revenue) == (52.5, Decimal("59.70"))
    assert {s for name, s in store.calls if name == "enrollment_stats"} == {"na", "eu", "apac"}


def test_a_course_with_enrollments_is_not_deleted_and_is_reopened(service, store, enrollments, shard_map):
    course = create(service, shard_map)
    enrollments.enrolled.add((an_id(shard_map, "na", 9), course.id))
    with pytest.raises(FailedPrecondition) as caught:
        service.delete_course(course.id)
    assert caught.value.reason == "COURSE_HAS_ENROLLMENTS" and not store.claims
    enrollments.enrolled.clear()
    service.delete_course(course.id)
    assert course.id not in store.courses["eu"]
    with pytest.raises(NotFound):
        service.delete_course(course.id)
