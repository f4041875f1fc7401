"""The enrollments service over in-memory fakes: placement on the student's shard, the course check, bad input
named before any write, idempotent enrollment, progress that never moves backwards, ownership, batches and
keyset pages."""
from __future__ import annotations

import pytest

from services.enrollments.domain import ProgressItem
from services.enrollments.owners import Owners
from services.enrollments.service import MAX_SECONDS, EnrollmentService
from shared.auth.caller import Caller, acting_as
from shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Unavailable
from tests.unit.enrollments_fakes import FakeCatalog, FakeEnrollmentStore
from tests.unit.fake_units import FakeUnitsOfWork
from tests.unit.unit_helpers import Serial, an_id


@pytest.fixture
def store(shard_map) -> FakeEnrollmentStore:
    return FakeEnrollmentStore(shard_map)


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog()


@pytest.fixture
def units(store) -> FakeUnitsOfWork:
    return FakeUnitsOfWork(store)


@pytest.fixture
def service(store, shard_map, catalog, units) -> EnrollmentService:
    return EnrollmentService(store, shard_map, catalog, Serial(), units=units)


@pytest.fixture
def enrolled(service, store, catalog, shard_map):
    """A student on eu enrolled in a three-lesson course on na."""
    student = an_id(shard_map, "eu", 1)
    store.add_student(student)
    course = catalog.add(an_id(shard_map, "na", 9), lesson_ids=(11, 12, 13))
    return service.enroll(student, course.course_id, "req-1")


def fields(caught) -> set[str]:
    return {v.field for v in caught.value.violations}


def test_an_enrollment_goes_to_the_students_shard(enrolled, store, shard_map):
    assert enrolled.id in store.rows["eu"] and shard_map.for_id(enrolled.id).name == "eu"
    assert (enrolled.state, enrolled.payment_state, enrolled.course_price) == ("ACTIVE", "UNPAID",
                                                                               store.rows["eu"][enrolled.id]
                                                                               .course_price)


def test_bad_ids_are_all_named_before_the_course_is_asked(service, store):
    with pytest.raises(InvalidArgument) as caught:
        service.enroll(0, -5, "")
    assert fields(caught) == {"student_id", "course_id"}
    assert store.calls == []


@pytest.mark.parametrize("state, reason", [(None, "COURSE_NOT_FOUND"), ("DRAFT", "COURSE_NOT_PUBLISHED"),
                                           ("ARCHIVED", "COURSE_NOT_PUBLISHED")])
def test_only_a_published_course_takes_enrollments(service, store, catalog, shard_map, state, reason):
    student, course_id = an_id(shard_map, "apac"), an_id(shard_map, "na", 4)
    store.add_student(student)
    if state:
        catalog.add(course_id, state=state)
    with pytest.raises(FailedPrecondition) as caught:
        service.enroll(student, course_id, "")
    assert caught.value.reason == reason and store.calls == []


def test_a_replayed_request_returns_the_same_enrollment_and_a_changed_one_is_refused(service, enrolled, catalog,
                                                                                      shard_map, store):
    assert service.enroll(enrolled.student_id, enrolled.course_id, "req-1") == enrolled
    other = catalog.add(an_id(shard_map, "na", 10))
    with pytest.raises(InvalidArgument) as caught:
        service.enroll(enrolled.student_id, other.course_id, "req-1")
    assert caught.value.reason == "REQUEST_ID_REUSED"
    assert len(store.rows["eu"]) == 1


def test_a_second_live_enrollment_in_the_same_course_is_refused(service, enrolled):
    with pytest.raises(AlreadyExists):
        service.enroll(enrolled.student_id, enrolled.course_id, "req-2")


def test_a_free_course_is_paid_at_once(service, store, catalog, shard_map):
    student = an_id(shard_map, "na", 3)
    store.add_student(student)
    course = catalog.add(an_id(shard_map, "eu", 3), price="0")
    assert service.enroll(student, course.course_id, "").payment_state == "PAID"


def record(service, enrollment_id, lesson_id, watched=60, position=60, completed=False):
    return service.record_progress(enrollment_id, lesson_id, watched, position, completed)


@pytest.mark.parametrize("args, named", [
    ((0, 0, 0, 0), {"enrollment_id", "lesson_id"}),
    ((None, 11, -1, MAX_SECONDS + 1), {"watched_seconds", "position_seconds"}),
])
def test_bad_progress_is_named_field_by_field_and_never_stored(service, enrolled, store, args, named):
    enrollment_id, lesson_id, watched, position = args
    store.calls.clear()
    with pytest.raises(InvalidArgument) as caught:
        record(service, enrolled.id if enrollment_id is None else enrollment_id, lesson_id, watched, position)
    assert fields(caught) == named and store.calls == []


def test_watched_time_only_grows_and_the_last_lesson_completes_the_enrollment(service, enrolled):
    record(service, enrolled.id, 11, watched=300)
    progress, enrollment = record(service, enrolled.id, 11, watched=100, position=100)
    assert (progress.watched_seconds, progress.last_position_seconds, progress.state) == (300, 100, "IN_PROGRESS")
    for lesson in (11, 12):
        _, enrollment = record(service, enrolled.id, lesson, completed=True)
    assert (enrollment.state, enrollment.progress_percent) == ("ACTIVE", 66.67)
    progress, enrollment = record(service, enrolled.id, 11, completed=False)
    assert progress.state == "COMPLETED"  # a completed lesson stays completed
    _, enrollment = record(service, enrolled.id, 13, completed=True)
    assert (enrollment.state, enrollment.progress_percent) == ("COMPLETED", 100.0)


def test_progress_on_a_lesson_of_another_course_names_the_lesson(service, enrolled):
    with pytest.raises(InvalidArgument) as caught:
        record(service, enrolled.id, 99)
    assert fields(caught) == {"lesson_id"}


def test_someone_elses_enrollment_reads_as_missing_and_is_not_written(service, enrolled, store, shard_map):
    missing = an_id(shard_map, "eu", 77)
    with acting_as(Caller.user(an_id(shard_map, "eu", 2), "STUDENT")):
        for call in (lambda i: record(service, i, 11), lambda i: service.cancel(i, ""),
                     lambda i: service.list_progress(i, 10, "")):
            with pytest.raises(NotFound) as not_own:
                call(enrolled.id)
            with pytest.raises(NotFound) as not_found:
                call(missing)
            assert (not_own.value.reason, not_own.value.metadata["resource"]) == (
                not_found.value.reason, not_found.value.metadata["resource"])
    assert store.progress["eu"] == {} and store.rows["eu"][enrolled.id] == enrolled


def test_the_owner_records_and_cancels_their_own(service, enrolled):
    with acting_as(Caller.user(enrolled.student_id, "STUDENT")):
        progress, _ = record(service, enrolled.id, 12)
        assert progress.watched_seconds == 60
        assert service.cancel(enrolled.id, "  moving on  ").cancel_reason == "moving on"


def test_a_cancelled_enrollment_takes_no_progress_and_cannot_be_cancelled_again(service, enrolled):
    service.cancel(enrolled.id, "")
    with pytest.raises(FailedPrecondition) as caught:
        record(service, enrolled.id, 11)
    assert caught.value.reason == "ENROLLMENT_CANCELLED"
    with pytest.raises(FailedPrecondition):
        service.cancel(enrolled.id, "")


def test_a_cancel_reason_over_the_limit_is_named(service, enrolled):
    with pytest.raises(InvalidArgument) as caught:
        service.cancel(enrolled.id, "x" * 1001)
    assert fields(caught) == {"reason"}


def test_a_batch_reports_each_item_as_the_single_call_would(service, enrolled, shard_map):
    missing = an_id(shard_map, "apac", 8)
    items = [ProgressItem(enrolled.id, 11, 30, 30, True), ProgressItem(missing, 11, 1, 1, False),
             ProgressItem(enrolled.id, 99, 1, 1, False)]
    outcomes = service.batch_record_progress(items, "batch-1")
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert outcomes[0].error is None and outcomes[0].progress.state == "COMPLETED"
    assert isinstance(outcomes[1].error, NotFound)
    assert isinstance(outcomes[2].error, InvalidArgument) and outcomes[2].error.violations[0].field == (
        "requests[2].lesson_id")
    replay = service.batch_record_progress(items, "batch-1")  # reads the stored results, writes nothing
    assert [(o.progress, o.enrollment, repr(o.error)) for o in replay] == [
        (o.progress, o.enrollment, repr(o.error)) for o in outcomes]
    with pytest.raises(InvalidArgument) as caught:
        service.batch_record_progress(items[:1], "batch-1")
    assert caught.value.reason == "REQUEST_ID_REUSED"


def test_a_shard_that_fails_fails_only_its_own_items(service, enrolled, store, shard_map):
    other = an_id(shard_map, "na", 5)

    def down(shard, items, request_id, fingerprint, returned):
        raise Unavailable("shard na is down")

    real = store.batch_record_progress
    store.batch_record_progress = lambda shard, *rest: down(shard, *rest) if shard == "na" else real(shard, *rest)
    outcomes = service.batch_record_progress([ProgressItem(other, 1, 1, 1, False),
                                              ProgressItem(enrolled.id, 12, 5, 5, False)], "")
    assert isinstance(outcomes[0].error, Unavailable) and outcomes[1].error is None


def test_enrollments_page_through_in_order_each_once(service, store, catalog, shard_map):
    student = an_id(shard_map, "apac", 4)
    store.add_student(student, "ASIA")
    made = [service.enroll(student, catalog.add(an_id(shard_map, "na", 20 + n)).course_id, "").id
            for n in range(5)]
    seen, token = [], ""
    while True:
        rows, token = service.list_enrollments(student, "", 2, token)
        seen += [e.id for e in rows]
        if not token:
            break
    assert seen == made
    with pytest.raises(InvalidArgument) as caught:
        service.list_enrollments(student, "PAUSED", 2, "")
    assert fields(caught) == {"state"}


def test_a_course_is_counted_on_every_shard(service, store, catalog, shard_map):
    course = catalog.add(an_id(shard_map, "na", 30))
    for shard in ("na", "eu", "apac"):
        student = an_id(shard_map, shard, 40)
        store.add_student(student)
        service.enroll(student, course.course_id, "")
    assert service.count_course_enrollments(course.course_id) == 3
    assert {s for name, s in store.calls if name == "count_course_enrollments"} == {"na", "eu", "apac"}


def test_a_refused_enrollment_leaves_its_request_id_to_be_judged_afresh(service, enrolled, units):
    with pytest.raises(AlreadyExists):
        service.enroll(enrolled.student_id, enrolled.course_id, "req-2")
    assert units.opened[-1] == ("write", "eu") and units.rolled_back == 1
    service.cancel(enrolled.id, "")
    again = service.enroll(enrolled.student_id, enrolled.course_id, "req-2")
    assert again.id != enrolled.id and again.state == "ACTIVE"


def test_a_batch_part_is_one_store_call_per_shard_that_commits_by_itself(service, enrolled, units, store,
                                                                          shard_map):
    """Each shard's part is one call to the store, which commits it in one round trip (and runs it again whole
    after a lost race): the service opens no unit of work of its own around it."""
    other = an_id(shard_map, "na", 6)  # no such enrollment on na
    items = [ProgressItem(enrolled.id, 11, 30, 30, True), ProgressItem(other, 1, 1, 1, False),
             ProgressItem(enrolled.id, 12, 5, 5, False)]
    opened = list(units.opened)
    first = service.batch_record_progress(items, "batch-1")
    assert units.opened == opened
    assert sorted(s for name, s in store.calls if name == "batch_record_progress") == ["eu", "na"]
    assert [o.error for o in first][::2] == [None, None] and first[2].enrollment.progress_percent == 33.33
    assert isinstance(first[1].error, NotFound)
    replay = service.batch_record_progress(items, "batch-1")
    assert [(o.progress, o.enrollment, repr(o.error)) for o in replay] == [
        (o.progress, o.enrollment, repr(o.error)) for o in first]
    assert store.progress["eu"][(enrolled.id, 11)].watched_seconds == 30


def test_an_enrollments_owner_is_read_once_and_still_refuses_everyone_else(service, enrolled, store, shard_map):
    with acting_as(Caller.user(enrolled.student_id, "STUDENT")):
        record(service, enrolled.id, 11)
        record(service, enrolled.id, 12)
    assert store.calls.count(("get", "eu")) == 1  # the second heartbeat wrote without reading first
    with acting_as(Caller.user(an_id(shard_map, "eu", 2), "STUDENT")):
        with pytest.raises(NotFound):
            record(service, enrolled.id, 13)
    assert (enrolled.id, 13) not in store.progress["eu"]


def test_a_missing_enrollment_is_looked_up_again():
    owners = Owners(capacity=4)
    answers = iter([None, 7])
    assert owners.owner(1, lambda: next(answers)) is None
    assert owners.owner(1, lambda: next(answers)) == 7
    assert owners.owner(1, lambda: pytest.fail("remembered")) == 7


def test_remembered_owners_stay_bounded():
    owners = Owners(capacity=4)
    for enrollment in range(10):
        owners.owner(enrollment, lambda e=enrollment: e + 100)
    assert len(owners) <= 4
    assert owners.owner(9, lambda: pytest.fail("the newest is kept")) == 109
