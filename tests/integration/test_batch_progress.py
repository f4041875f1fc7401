"""BatchRecordLessonProgress on the real cluster, through the gateway: validation before any write, one
transaction per shard with per-item results and a token per shard, replays that write nothing, and
concurrent batches on the same enrollments that keep the progress and completion invariants."""
from __future__ import annotations

import random
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import code_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as pb_grpc
from shared import ids
from shared.pg import lsn
from tests.integration import courses_client, payments_client
from tests.integration.races import together
from tests.integration.users_client import field_violations

REGIONS = ("EUROPE", "ASIA", "NORTH_AMERICA")  # one per shard
SHARDS = ("eu", "apac", "na")
PROGRESS_COUNT = ("SELECT count(*), coalesce(sum(watched_seconds), 0) FROM lesson_progress "
                  "WHERE enrollment_id = ANY(%s)")
PROGRESS_ROWS = (
    "SELECT e.progress_percent::float8, e.state,"
    " (SELECT count(*) FROM lesson_progress p WHERE p.enrollment_id = e.id AND p.state = 'COMPLETED'),"
    " (SELECT count(*) FROM course_lesson_refs r WHERE r.course_id = e.course_id)"
    " FROM enrollments e WHERE e.id = %s")


@pytest.fixture(scope="module")
def course(gateway_channel):
    teacher = courses_client.instructor(gateway_channel, "OCEANIA")
    draft = courses_client.course(gateway_channel, teacher.id, courses_client.category(gateway_channel).id,
                                  modules=courses_client.outline(2, 3))
    return courses_client.stub(gateway_channel).PublishCourse(courses_pb.PublishCourseRequest(id=draft.id),
                                                              timeout=10)


def lessons_of(course) -> list[int]:
    return [lesson.id for module in course.modules for lesson in module.lessons]


def enroll_one_per_shard(channel, course) -> list[int]:
    """An enrollment of a new student in each shard's region, in SHARDS order."""
    return [payments_client.enroll(channel, payments_client.student(channel, region).id, course.id).id
            for region in REGIONS]


def stored(cluster, enrollment_ids: list[int]) -> dict[str, tuple[int, int]]:
    return {shard: tuple(cluster.query(shard, "primary", PROGRESS_COUNT, (enrollment_ids,))[0]) for shard in SHARDS}


def item(enrollment_id: int, lesson_id: int, watched: int = 30, **fields) -> pb.RecordLessonProgressRequest:
    return pb.RecordLessonProgressRequest(enrollment_id=enrollment_id, lesson_id=lesson_id, watched_seconds=watched,
                                          position_seconds=abs(watched), **fields)


def stub(channel) -> pb_grpc.EnrollmentServiceStub:
    return pb_grpc.EnrollmentServiceStub(channel)


def test_one_invalid_item_rejects_the_whole_batch_and_writes_nothing(cluster, gateway_channel, course):
    made = enroll_one_per_shard(gateway_channel, course)
    lessons = lessons_of(course)
    items = [item(made[n % 3], lessons[n % len(lessons)]) for n in range(20)]
    items[17] = item(made[17 % 3], lessons[0], watched=-5)
    before = stored(cluster, made)
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).BatchRecordLessonProgress(pb.BatchRecordLessonProgressRequest(
            requests=items, request_id=str(uuid.uuid4())), timeout=20)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(field_violations(caught.value)) == ["requests[17].watched_seconds"]
    assert stored(cluster, made) == before == {shard: (0, 0) for shard in SHARDS}


@pytest.mark.parametrize("requests, field", [
    ([], "requests"),
    ([item(1, 1)], "requests[0].enrollment_id"),
    ([item(ids.encode(ids.EPOCH_MS + 9, 1, 9), 0)], "requests[0].lesson_id"),
], ids=["empty", "malformed-id", "no-lesson"])
def test_bad_batches_name_the_field(gateway_channel, requests, field):
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).BatchRecordLessonProgress(pb.BatchRecordLessonProgressRequest(requests=requests),
                                                        timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value)


def test_a_batch_over_three_shards_writes_each_part_with_per_item_results_and_a_token_per_shard(
        cluster, gateway_channel, course):
    made = enroll_one_per_shard(gateway_channel, course)
    lessons = lessons_of(course)
    missing = ids.encode(ids.EPOCH_MS + 9, 2, 9)  # a well-formed ID of no enrollment
    items = [item(enrollment, lesson, watched=10 + n) for n, (enrollment, lesson) in
             enumerate((e, lesson) for e in made for lesson in lessons)]
    items += [item(missing, lessons[0]), item(made[0], 1)]  # not found; not a lesson of the course
    response, call = stub(gateway_channel).BatchRecordLessonProgress.with_call(
        pb.BatchRecordLessonProgressRequest(requests=items, request_id=str(uuid.uuid4())), timeout=20)
    results = response.results
    assert len(results) == len(items)
    assert [r.status.code for r in results] == [code_pb2.OK] * (len(items) - 2) + [code_pb2.NOT_FOUND,
                                                                                  code_pb2.INVALID_ARGUMENT]
    for request, result in zip(items, results[:-2], strict=False):
        assert (result.lesson_progress.enrollment_id, result.lesson_progress.lesson_id,
                result.lesson_progress.watched_seconds) == (request.enrollment_id, request.lesson_id,
                                                            request.watched_seconds)
        assert result.enrollment.id == request.enrollment_id
    assert results[-1].status.reason == "INVALID_ARGUMENT" and "lesson" in results[-1].status.message
    per_shard = len(lessons)
    for shard, enrollment in zip(SHARDS, made, strict=False):
        expected = sum(r.watched_seconds for r in items[:-2] if r.enrollment_id == enrollment)
        assert cluster.query(shard, "primary", PROGRESS_COUNT, ([enrollment],))[0] == (per_shard, expected)
    token = lsn.parse_token(dict(call.trailing_metadata())["x-min-lsn"])
    assert set(token) == set(SHARDS)


def test_the_replayed_batch_returns_the_same_results_and_writes_nothing(cluster, gateway_channel, course):
    made = enroll_one_per_shard(gateway_channel, course)
    lessons = lessons_of(course)
    items = [item(enrollment, lesson, watched=40, completed=(lesson == lessons[0]))
             for enrollment in made for lesson in lessons]
    request = pb.BatchRecordLessonProgressRequest(requests=items, request_id=str(uuid.uuid4()))
    first = stub(gateway_channel).BatchRecordLessonProgress(request, timeout=20)
    rows = {shard: cluster.query(shard, "primary", "SELECT * FROM lesson_progress WHERE enrollment_id = ANY(%s) "
                                 "ORDER BY 1, 2", (made,)) for shard in SHARDS}
    again = stub(gateway_channel).BatchRecordLessonProgress(request, timeout=20)
    assert again == first
    assert all(r.status.code == code_pb2.OK for r in again.results)
    assert {shard: cluster.query(shard, "primary", "SELECT * FROM lesson_progress WHERE enrollment_id = ANY(%s) "
                                 "ORDER BY 1, 2", (made,)) for shard in SHARDS} == rows
    other = pb.BatchRecordLessonProgressRequest(requests=items[:-1], request_id=request.request_id)
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).BatchRecordLessonProgress(other, timeout=20)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "request_id" in field_violations(caught.value)


def batch_with_mask(channel, items, *paths, request_id=""):
    return stub(channel).BatchRecordLessonProgress(pb.BatchRecordLessonProgressRequest(
        requests=items, request_id=request_id, read_mask=field_mask_pb2.FieldMask(paths=list(paths))), timeout=20)


def test_a_read_mask_returns_only_its_fields_and_the_writes_are_the_same(cluster, gateway_channel, course):
    made = enroll_one_per_shard(gateway_channel, course)
    lessons = lessons_of(course)
    missing = ids.encode(ids.EPOCH_MS + 9, 2, 9)
    items = [item(enrollment, lesson, watched=20 + n) for n, (enrollment, lesson) in
             enumerate((e, lesson) for e in made for lesson in lessons[:2])] + [item(missing, lessons[0])]
    codes = [code_pb2.OK] * (len(items) - 1) + [code_pb2.NOT_FOUND]

    heartbeats = batch_with_mask(gateway_channel, items, "status").results
    assert [r.status.code for r in heartbeats] == codes
    assert not any(r.HasField("lesson_progress") or r.HasField("enrollment") for r in heartbeats)
    for shard, enrollment in zip(SHARDS, made, strict=True):  # written as without a mask
        expected = sum(r.watched_seconds for r in items if r.enrollment_id == enrollment)
        assert cluster.query(shard, "primary", PROGRESS_COUNT, ([enrollment],))[0] == (2, expected)

    rows = batch_with_mask(gateway_channel, items, "lesson_progress").results  # the same values again
    assert [r.status.code for r in rows] == codes
    assert not any(r.HasField("enrollment") for r in rows)
    full = batch_with_mask(gateway_channel, items).results
    for request, lean, whole in zip(items[:-1], rows, full, strict=False):
        assert (lean.lesson_progress.enrollment_id, lean.lesson_progress.lesson_id,
                lean.lesson_progress.watched_seconds) == (request.enrollment_id, request.lesson_id,
                                                          request.watched_seconds)
        assert lean.lesson_progress.state == whole.lesson_progress.state
        assert whole.enrollment.id == request.enrollment_id
    only_enrollments = batch_with_mask(gateway_channel, items, "enrollment").results
    assert [r.enrollment.id for r in only_enrollments[:-1]] == [r.enrollment_id for r in items[:-1]]
    assert not any(r.HasField("lesson_progress") for r in only_enrollments)


def test_a_replay_may_ask_for_other_fields_than_the_first_call(cluster, gateway_channel, course):
    made = enroll_one_per_shard(gateway_channel, course)
    lessons = lessons_of(course)
    items = [item(enrollment, lessons[0], watched=40) for enrollment in made]
    key = str(uuid.uuid4())
    first = batch_with_mask(gateway_channel, items, "status", request_id=key).results
    assert [r.status.code for r in first] == [code_pb2.OK] * 3
    before = stored(cluster, made)
    replayed = batch_with_mask(gateway_channel, items, request_id=key).results
    assert [(r.lesson_progress.enrollment_id, r.lesson_progress.watched_seconds, r.enrollment.id)
            for r in replayed] == [(e, 40, e) for e in made]
    assert stored(cluster, made) == before  # nothing written again


def test_an_unknown_read_mask_path_is_refused_before_any_write(cluster, gateway_channel, course):
    made = enroll_one_per_shard(gateway_channel, course)
    with pytest.raises(grpc.RpcError) as caught:
        batch_with_mask(gateway_channel, [item(made[0], lessons_of(course)[0])], "status", "enrollment.id")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(field_violations(caught.value)) == ["read_mask"]
    assert stored(cluster, made) == {shard: (0, 0) for shard in SHARDS}


def test_the_previous_releases_procedure_still_writes_and_returns_every_field(cluster, gateway_channel, course):
    """A service of the previous release, during a rolling upgrade, calls 0031's procedure: the same writes (now
    in 0033's one writer) and every field of its results."""
    enrollment = enroll_one_per_shard(gateway_channel, course)[0]  # eu
    lesson = lessons_of(course)[0]
    conn = cluster.pg("eu", "primary")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CALL record_lesson_progress_batch_committed('', ''::bytea, '{0}', %s, %s, '{77}', '{77}', "
                        "'{f}'" + ", NULL" * 26 + ")", ([enrollment], [lesson]))
            row = cur.fetchone()
    finally:
        conn.close()
    assert row[0] is None and row[1] == [0] and row[2] == [None]  # no stored batch; item 0 written
    assert (row[3], row[4], row[6]) == ([enrollment], [lesson], [77])  # the lesson's row
    assert row[10] == [enrollment]  # and the enrollment's
    assert stored(cluster, [enrollment])["eu"] == (1, 77)


def test_a_cancelled_enrollment_fails_its_items_only(cluster, gateway_channel, course):
    made = enroll_one_per_shard(gateway_channel, course)
    stub(gateway_channel).CancelEnrollment(pb.CancelEnrollmentRequest(id=made[1]), timeout=10)
    lessons = lessons_of(course)
    response = stub(gateway_channel).BatchRecordLessonProgress(pb.BatchRecordLessonProgressRequest(
        requests=[item(made[0], lessons[0]), item(made[1], lessons[0])]), timeout=20)
    assert [r.status.code for r in response.results] == [code_pb2.OK, code_pb2.FAILED_PRECONDITION]
    assert stored(cluster, made)["apac"] == (0, 0)


@pytest.mark.slow
def test_concurrent_batches_on_the_same_enrollments_keep_progress_and_completion_right(
        cluster, gateway_channel, course):
    """16 batches at once per round, each completing a random half of the lessons of the same enrollments
    (every shard) in its own order, and watching the rest; after all, every lesson completed by some batch."""
    lessons = lessons_of(course)
    rng = random.Random(18)
    for _round in range(3):
        made = enroll_one_per_shard(gateway_channel, course) + enroll_one_per_shard(gateway_channel, course)
        batches = []
        for n in range(16):
            pairs = [(e, lesson) for e in made for lesson in lessons]
            rng.shuffle(pairs)
            batches.append([item(e, lesson, watched=rng.randrange(1, 500), completed=rng.random() < 0.5 or n == 0)
                            for e, lesson in pairs])
        outcomes = together([lambda b=b: stub(gateway_channel).BatchRecordLessonProgress(
            pb.BatchRecordLessonProgressRequest(requests=b), timeout=60) for b in batches])
        assert all(o.code == "OK" for o in outcomes), [o.details for o in outcomes if o.code != "OK"]
        assert all(r.status.code == code_pb2.OK for o in outcomes for r in o.value.results)
        for enrollment in made:
            shard = cluster.settings().shard_map.for_id(enrollment).name
            percent, state, done, total = cluster.query(shard, "primary", PROGRESS_ROWS, (enrollment,))[0]
            assert (percent, state, done, total) == (100.0, "COMPLETED", len(lessons), len(lessons))
            (watched,) = cluster.query(shard, "primary", "SELECT array_agg(watched_seconds ORDER BY lesson_id) "
                                       "FROM lesson_progress WHERE enrollment_id = %s", (enrollment,))[0]
            assert watched == [max(i.watched_seconds for b in batches for i in b
                                   if (i.enrollment_id, i.lesson_id) == (enrollment, lesson))
                               for lesson in sorted(lessons)]


@pytest.fixture(scope="module")
def scene(cluster, gateway_channel, course):
    """Enrollments a random batch may name: one live on each shard, one cancelled, one that does not exist; and
    the course's lessons with one ID that is not among them."""
    live = enroll_one_per_shard(gateway_channel, course)
    cancelled = enroll_one_per_shard(gateway_channel, course)[0]
    stub(gateway_channel).CancelEnrollment(pb.CancelEnrollmentRequest(id=cancelled), timeout=10)
    eu_number = cluster.settings().shard_map.for_id(live[0]).number
    missing = ids.encode(ids.EPOCH_MS + 7, eu_number, 7)
    return live, cancelled, missing, lessons_of(course) + [1]


def stored_rows(cluster, enrollments: list[int]) -> dict[tuple[int, int], tuple[int, int, bool]]:
    """(enrollment, lesson) -> (watched, position, completed) of every stored row of `enrollments`."""
    rows = {}
    for shard in SHARDS:
        for e, lesson, watched, position, state in cluster.query(
                shard, "primary", "SELECT enrollment_id, lesson_id, watched_seconds, last_position_seconds, state "
                "FROM lesson_progress WHERE enrollment_id = ANY(%s)", (enrollments,)):
            rows[(e, lesson)] = (watched, position, state == "COMPLETED")
    return rows


BATCH_ITEMS = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6), st.integers(0, 5000), st.integers(0, 5000),
                                 st.booleans()), min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, database=None)
@given(picks=BATCH_ITEMS, mask=st.sampled_from(["", "status", "lesson_progress"]))
def test_random_batches_follow_the_single_calls_rules(cluster, gateway_channel, scene, picks, mask):
    """Any mix of items (repeats of one lesson, unknown and cancelled enrollments, a lesson of another course, on
    every shard): each item gets the status the single call would answer, and the stored rows are the rows
    before with each lesson's items merged in request order (watched time the largest, position the last,
    completed once any item completed it); nothing else changes."""
    live, cancelled, missing, lessons = scene
    enrollments = [*live, cancelled, missing]
    items = [pb.RecordLessonProgressRequest(enrollment_id=enrollments[e],
                                            lesson_id=lessons[min(lesson, len(lessons) - 1)],
                                            watched_seconds=watched, position_seconds=position,
                                            completed=done and lesson % 3 == 0)
             for e, lesson, watched, position, done in picks]
    before = stored_rows(cluster, enrollments)
    expected = dict(before)
    codes = []
    for request in items:
        if request.enrollment_id == missing:
            codes.append(code_pb2.NOT_FOUND)
        elif request.enrollment_id == cancelled:
            codes.append(code_pb2.FAILED_PRECONDITION)
        elif request.lesson_id == 1:
            codes.append(code_pb2.INVALID_ARGUMENT)
        else:
            codes.append(code_pb2.OK)
            key = (request.enrollment_id, request.lesson_id)
            watched, _, done = expected.get(key, (0, 0, False))
            expected[key] = (max(watched, request.watched_seconds), request.position_seconds,
                             done or request.completed)
    response = stub(gateway_channel).BatchRecordLessonProgress(pb.BatchRecordLessonProgressRequest(
        requests=items, read_mask=field_mask_pb2.FieldMask(paths=[mask] if mask else [])), timeout=20)
    assert [r.status.code for r in response.results] == codes
    assert stored_rows(cluster, enrollments) == expected
    for request, result in zip(items, response.results, strict=True):
        if result.status.code == code_pb2.OK and mask != "status":
            progress = result.lesson_progress
            final = expected[(request.enrollment_id, request.lesson_id)]
            assert (progress.watched_seconds, progress.last_position_seconds) == final[:2]
