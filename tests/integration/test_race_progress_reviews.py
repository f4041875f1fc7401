"""Races on one shard, on the real cluster: every lesson of an enrollment completed at once, and twenty
students reviewing one course at once. Each runs several rounds; the invariant is checked on the stored rows."""
from __future__ import annotations

import uuid

import pytest

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as pb_grpc
from tests.channels import open_channel
from tests.integration import courses_client, payments_client
from tests.integration.races import in_parallel, tally, together

REGIONS = ("EUROPE", "ASIA", "NORTH_AMERICA")  # one per shard
PROGRESS_ROWS = (
    "SELECT e.progress_percent::float8, e.state,"
    " (SELECT count(*) FROM lesson_progress p WHERE p.enrollment_id = e.id AND p.state = 'COMPLETED'),"
    " (SELECT count(*) FROM course_lesson_refs r WHERE r.course_id = e.course_id)"
    " FROM enrollments e WHERE e.id = %s")
RATING_ROWS = (
    "SELECT c.average_rating::float8, c.review_count,"
    " (SELECT coalesce(round(avg(rating), 2), 0)::float8 FROM course_reviews r WHERE r.course_id = c.id),"
    " (SELECT count(*) FROM course_reviews r WHERE r.course_id = c.id)"
    " FROM courses c WHERE c.id = %s")


@pytest.fixture(scope="module")
def direct(cluster):
    """Channels straight to the services: what a service answers, with no gateway retry in between."""
    channels = {name: open_channel(cluster, cluster.service(name)) for name in ("courses", "enrollments")}
    yield channels
    for channel in channels.values():
        channel.close()


def shard_of(cluster, id_: int) -> str:
    return cluster.settings().shard_map.for_id(id_).name


def progress_agrees(percent: float, state: str, done: int, total: int) -> bool:
    """What the lesson rows say the enrollment's progress and state must be."""
    return percent == round(100 * done / total, 2) and (state == "COMPLETED") == (done == total)


@pytest.mark.slow
@pytest.mark.parametrize("started", [False, True], ids=["first-records", "lessons-already-started"])
def test_every_lesson_completed_at_once_completes_the_enrollment_every_round(cluster, gateway_channel, direct,
                                                                             started):
    """10 concurrent completions per round (first records go through the checked function; lessons already
    started through the procedure's single UPDATE)."""
    teacher = courses_client.instructor(gateway_channel, "OCEANIA")
    draft = courses_client.course(gateway_channel, teacher.id, courses_client.category(gateway_channel).id,
                                  modules=courses_client.outline(2, 5))
    course = courses_client.stub(gateway_channel).PublishCourse(courses_pb.PublishCourseRequest(id=draft.id),
                                                                timeout=5)
    lessons = [lesson.id for m in course.modules for lesson in m.lessons]
    stub = pb_grpc.EnrollmentServiceStub(direct["enrollments"])
    rounds, wrong = 5, []
    for n in range(rounds):
        learner = payments_client.student(gateway_channel, REGIONS[n % len(REGIONS)])
        made = payments_client.enroll(gateway_channel, learner.id, course.id)
        if started:
            for lesson in lessons:
                stub.RecordLessonProgress(pb.RecordLessonProgressRequest(
                    enrollment_id=made.id, lesson_id=lesson, watched_seconds=5), timeout=10)
        outcomes = together([lambda lesson=lesson: stub.RecordLessonProgress(pb.RecordLessonProgressRequest(
            enrollment_id=made.id, lesson_id=lesson, watched_seconds=90, completed=True), timeout=20)
            for lesson in lessons])
        assert tally(outcomes) == {"OK": len(lessons)}, [o.details for o in outcomes if o.code != "OK"]
        (percent, state, done, total), = cluster.query(shard_of(cluster, made.id), "primary", PROGRESS_ROWS,
                                                       (made.id,))
        assert done == total == len(lessons)
        if not (progress_agrees(percent, state, done, total) and state == "COMPLETED"):
            wrong.append((percent, state))
    assert not wrong, f"{len(wrong)} of {rounds} rounds wrong with {len(lessons)} concurrent completions: {wrong}"


@pytest.mark.slow
def test_twenty_concurrent_reviewers_never_abort_and_the_rating_matches_the_rows(cluster, gateway_channel, direct):
    stub = courses_grpc.CourseServiceStub(direct["courses"])
    rounds, reviewers, codes, wrong, failures = 3, 20, {}, [], {}
    for n in range(rounds):
        course = payments_client.published_course(gateway_channel, region=REGIONS[n % len(REGIONS)])
        students = in_parallel(lambda i: payments_client.student(gateway_channel, REGIONS[i % len(REGIONS)]),
                               reviewers)
        in_parallel(lambda i: payments_client.enroll(gateway_channel, students[i].id, course.id), reviewers)
        outcomes = together([lambda i=i: stub.AddReview(courses_pb.AddReviewRequest(
            course_id=course.id, review=courses_pb.Review(student_id=students[i].id, rating=1 + i % 5,
                                                          comment="race"),
            request_id=str(uuid.uuid4())), timeout=30) for i in range(reviewers)])
        failures.update({o.code: o.details[:300] for o in outcomes if o.code != "OK"})
        for code, count in tally(outcomes).items():
            codes[code] = codes.get(code, 0) + count
        (average, count, rows_average, rows_count), = cluster.query(shard_of(cluster, course.id), "primary",
                                                                    RATING_ROWS, (course.id,))
        if (average, count) != (rows_average, rows_count):
            wrong.append(((average, count), (rows_average, rows_count)))
    assert codes == {"OK": rounds * reviewers}, f"{rounds} rounds of {reviewers} reviewers: {codes}; e.g. {failures}"
    assert not wrong, f"course rating/count differ from the review rows: {wrong}"
