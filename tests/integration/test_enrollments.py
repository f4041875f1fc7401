"""Enrollments: placement on the student's shard, the course checked through the courses service, progress
through the trigger, reviews by enrolled students only, and courses that cannot be deleted."""
from __future__ import annotations

import time

import grpc
import pytest

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as pb_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from shared import ids
from shared.pg import lsn
from tests.integration import courses_client
from tests.integration.users_client import field_violations

SHARDS = ("na", "eu", "apac")


def enrollments(channel) -> pb_grpc.EnrollmentServiceStub:
    return pb_grpc.EnrollmentServiceStub(channel)


@pytest.fixture(scope="module")
def apac_course(gateway_channel):
    category = courses_client.category(gateway_channel)
    teacher = courses_client.instructor(gateway_channel, "OCEANIA")
    course = courses_client.course(gateway_channel, teacher.id, category.id, title="Pacific Data")
    return courses_client.stub(gateway_channel).PublishCourse(courses_pb.PublishCourseRequest(id=course.id),
                                                              timeout=5)


def student(channel, region: str = "EUROPE") -> users_pb.User:
    return courses_client.instructor(channel, region, role=users_pb.USER_ROLE_STUDENT)


def wait_until_replayed(cluster, shard: str, seconds: float = 5.0) -> None:
    (target,) = cluster.query(shard, "primary", "SELECT pg_current_wal_insert_lsn()")[0]
    give_up = time.monotonic() + seconds
    while not cluster.query(shard, "replica", "SELECT pg_last_wal_replay_lsn() >= %s", (target,))[0][0]:
        assert time.monotonic() < give_up, f"the {shard} replica did not catch up"
        time.sleep(0.02)


def lesson_ids(course) -> list[int]:
    return [lesson.id for m in course.modules for lesson in m.lessons]


def test_an_eu_student_enrolling_in_an_apac_course_writes_on_eu_only(cluster, gateway_channel, apac_course):
    learner = student(gateway_channel, "AFRICA")
    made = enrollments(gateway_channel).Enroll(pb.EnrollRequest(student_id=learner.id, course_id=apac_course.id),
                                               timeout=10)
    assert cluster.settings().shard_map.for_id(made.id).name == "eu"
    # The snapshot came from the courses service (the course lives on apac).
    assert (made.course_title, made.course_price.amount, made.payment_state) == ("Pacific Data", "19.99",
                                                                                pb.PAYMENT_STATE_UNPAID)
    for shard in SHARDS:
        rows = cluster.query(shard, "primary", "SELECT count(*) FROM enrollments WHERE id = %s", (made.id,))
        assert rows == ([(1,)] if shard == "eu" else [(0,)])


def test_enroll_rules(cluster, gateway_channel, apac_course):
    stub = enrollments(gateway_channel)
    learner = student(gateway_channel)
    first = stub.Enroll(pb.EnrollRequest(student_id=learner.id, course_id=apac_course.id), timeout=10)
    cases = [
        (pb.EnrollRequest(student_id=learner.id, course_id=apac_course.id), grpc.StatusCode.ALREADY_EXISTS),
        (pb.EnrollRequest(student_id=learner.id, course_id=ids.encode(ids.EPOCH_MS + 9, 3, 9)),
         grpc.StatusCode.FAILED_PRECONDITION),  # no such course
        (pb.EnrollRequest(student_id=ids.encode(ids.EPOCH_MS + 9, 2, 9), course_id=apac_course.id),
         grpc.StatusCode.FAILED_PRECONDITION),  # no such student
        (pb.EnrollRequest(student_id=1, course_id=apac_course.id), grpc.StatusCode.INVALID_ARGUMENT),
    ]
    before = cluster.query("eu", "primary", "SELECT count(*) FROM enrollments")
    for request, code in cases:
        with pytest.raises(grpc.RpcError) as caught:
            stub.Enroll(request, timeout=10)
        assert caught.value.code() == code, (request, caught.value.details())
    assert cluster.query("eu", "primary", "SELECT count(*) FROM enrollments") == before
    draft = courses_client.course(gateway_channel, courses_client.instructor(gateway_channel, "ASIA").id,
                                  apac_course.category_id)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Enroll(pb.EnrollRequest(student_id=learner.id, course_id=draft.id), timeout=10)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    stub.CancelEnrollment(pb.CancelEnrollmentRequest(id=first.id, reason="changed my mind"), timeout=5)
    again = stub.Enroll(pb.EnrollRequest(student_id=learner.id, course_id=apac_course.id), timeout=10)
    assert again.id != first.id and again.state == pb.ENROLLMENT_STATE_ACTIVE


def test_progress_drives_the_enrollment_to_completion(gateway_channel, apac_course):
    stub = enrollments(gateway_channel)
    made = stub.Enroll(pb.EnrollRequest(student_id=student(gateway_channel, "ASIA").id, course_id=apac_course.id),
                       timeout=10)
    lessons = lesson_ids(apac_course)
    reply = stub.RecordLessonProgress(pb.RecordLessonProgressRequest(
        enrollment_id=made.id, lesson_id=lessons[0], watched_seconds=40, position_seconds=40), timeout=5)
    assert reply.lesson_progress.state == pb.LESSON_PROGRESS_STATE_IN_PROGRESS
    assert reply.enrollment.progress_percent == 0
    reply = stub.RecordLessonProgress(pb.RecordLessonProgressRequest(
        enrollment_id=made.id, lesson_id=lessons[0], watched_seconds=10, position_seconds=5), timeout=5)
    assert (reply.lesson_progress.watched_seconds, reply.lesson_progress.last_position_seconds) == (40, 5)
    for n, lesson in enumerate(lessons, start=1):
        reply = stub.RecordLessonProgress(pb.RecordLessonProgressRequest(
            enrollment_id=made.id, lesson_id=lesson, watched_seconds=90, completed=True), timeout=5)
        assert reply.enrollment.progress_percent == pytest.approx(round(100 * n / len(lessons), 2))
    assert reply.enrollment.state == pb.ENROLLMENT_STATE_COMPLETED and reply.enrollment.HasField("complete_time")
    listed = stub.ListLessonProgress(pb.ListLessonProgressRequest(enrollment_id=made.id, page_size=4), timeout=5)
    assert len(listed.lesson_progress) == 4 and listed.next_page_token


def test_progress_rules(gateway_channel, apac_course):
    stub = enrollments(gateway_channel)
    made = stub.Enroll(pb.EnrollRequest(student_id=student(gateway_channel).id, course_id=apac_course.id),
                       timeout=10)
    bad = {
        "lesson_id": pb.RecordLessonProgressRequest(enrollment_id=made.id, lesson_id=12345),
        "watched_seconds": pb.RecordLessonProgressRequest(enrollment_id=made.id, lesson_id=lesson_ids(
            apac_course)[0], watched_seconds=-5),
        "enrollment_id": pb.RecordLessonProgressRequest(enrollment_id=7, lesson_id=1),
    }
    for field, request in bad.items():
        with pytest.raises(grpc.RpcError) as caught:
            stub.RecordLessonProgress(request, timeout=5)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in field_violations(caught.value)
    started, fresh = lesson_ids(apac_course)[:2]
    stub.RecordLessonProgress(pb.RecordLessonProgressRequest(
        enrollment_id=made.id, lesson_id=started, watched_seconds=3), timeout=5)
    stub.CancelEnrollment(pb.CancelEnrollmentRequest(id=made.id), timeout=5)
    # A lesson never started (the insert path) and one already started (the update path) are both refused.
    for lesson in (fresh, started):
        with pytest.raises(grpc.RpcError) as caught:
            stub.RecordLessonProgress(pb.RecordLessonProgressRequest(
                enrollment_id=made.id, lesson_id=lesson, watched_seconds=9), timeout=5)
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    listed = stub.ListLessonProgress(pb.ListLessonProgressRequest(enrollment_id=made.id),
                                     metadata=(("x-consistency", "strong"),), timeout=5)
    assert [(p.lesson_id, p.watched_seconds) for p in listed.lesson_progress] == [(started, 3)]


def test_progress_answers_with_its_commit_position(cluster, gateway_channel, apac_course):
    """The token of a RecordLessonProgress (its procedure commits and reports the position in the same round
    trip) makes a session read of the progress wait for it: with the eu replica's replay paused, the read
    holding the token goes to the primary and sees the new value; one without it gets the replica's old one."""
    stub = enrollments(gateway_channel)
    made = stub.Enroll(pb.EnrollRequest(student_id=student(gateway_channel).id, course_id=apac_course.id),
                       timeout=10)
    lesson = lesson_ids(apac_course)[0]
    stub.RecordLessonProgress(pb.RecordLessonProgressRequest(
        enrollment_id=made.id, lesson_id=lesson, watched_seconds=10), timeout=5)
    wait_until_replayed(cluster, "eu")
    (before,) = cluster.query("eu", "primary", "SELECT pg_current_wal_insert_lsn()::text")[0]
    cluster.cluster.nodes.set_maintenance("eu", True)  # or Patroni resumes the paused replay at its next loop
    cluster.query("eu", "replica", "SELECT pg_wal_replay_pause()")
    try:
        reply, call = stub.RecordLessonProgress.with_call(pb.RecordLessonProgressRequest(
            enrollment_id=made.id, lesson_id=lesson, watched_seconds=77), timeout=5)
        assert reply.lesson_progress.watched_seconds == 77
        token = lsn.parse_token(dict(call.trailing_metadata())["x-min-lsn"])
        assert set(token) == {"eu"} and token["eu"] > lsn.parse_lsn(before)
        request = pb.ListLessonProgressRequest(enrollment_id=made.id)
        seen, read = stub.ListLessonProgress.with_call(
            request, metadata=(("x-min-lsn", lsn.format_token(token)),), timeout=5)
        assert dict(read.trailing_metadata())["x-served-by"] == "eu:primary"
        assert [p.watched_seconds for p in seen.lesson_progress] == [77]
        stale, read = stub.ListLessonProgress.with_call(request, timeout=5)
        assert dict(read.trailing_metadata())["x-served-by"] == "eu:replica"
        assert [p.watched_seconds for p in stale.lesson_progress] == [10]
    finally:
        cluster.query("eu", "replica", "SELECT pg_wal_replay_resume()")
        cluster.cluster.nodes.set_maintenance("eu", False)


def test_list_enrollments_pages_a_students_enrollments(gateway_channel, apac_course):
    stub = enrollments(gateway_channel)
    learner = student(gateway_channel, "NORTH_AMERICA")
    teacher = courses_client.instructor(gateway_channel, "EUROPE")
    made = []
    for _ in range(3):
        course = courses_client.course(gateway_channel, teacher.id, apac_course.category_id)
        courses_client.stub(gateway_channel).PublishCourse(courses_pb.PublishCourseRequest(id=course.id), timeout=5)
        made.append(stub.Enroll(pb.EnrollRequest(student_id=learner.id, course_id=course.id), timeout=10).id)
    seen, token = [], ""
    while True:
        page = stub.ListEnrollments(pb.ListEnrollmentsRequest(student_id=learner.id, page_size=2, page_token=token),
                                    timeout=5)
        seen += [e.id for e in page.enrollments]
        token = page.next_page_token
        if not token:
            break
    assert seen == made


def test_reviews_need_an_enrollment_and_are_one_per_student(cluster, gateway_channel, apac_course):
    courses = courses_client.stub(gateway_channel)
    learner = student(gateway_channel)
    review = courses_pb.AddReviewRequest(course_id=apac_course.id,
                                         review=courses_pb.Review(student_id=learner.id, rating=5, comment="Great"))
    with pytest.raises(grpc.RpcError) as caught:
        courses.AddReview(review, timeout=10)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    enrollments(gateway_channel).Enroll(pb.EnrollRequest(student_id=learner.id, course_id=apac_course.id),
                                        timeout=10)
    added = courses.AddReview(review, timeout=10)
    assert cluster.query("apac", "primary", "SELECT rating FROM course_reviews WHERE id = %s", (added.id,)) == [(5,)]
    with pytest.raises(grpc.RpcError) as caught:
        courses.AddReview(review, timeout=10)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    review.review.rating = 6
    with pytest.raises(grpc.RpcError) as caught:
        courses.AddReview(review, timeout=10)
    assert "review.rating" in field_violations(caught.value)
    fetched = courses.GetCourse(courses_pb.GetCourseRequest(id=apac_course.id), timeout=5)
    assert fetched.review_count >= 1 and fetched.enrollment_count >= 1
    listed = courses.ListReviews(courses_pb.ListReviewsRequest(course_id=apac_course.id), timeout=5)
    assert added.id in [r.id for r in listed.reviews]


def test_a_course_with_enrollments_cannot_be_deleted(cluster, gateway_channel, apac_course):
    courses = courses_client.stub(gateway_channel)
    with pytest.raises(grpc.RpcError) as caught:
        courses.DeleteCourse(courses_pb.DeleteCourseRequest(id=apac_course.id), timeout=10)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    lonely = courses_client.course(gateway_channel, courses_client.instructor(gateway_channel, "ASIA").id,
                                   apac_course.category_id)
    courses.DeleteCourse(courses_pb.DeleteCourseRequest(id=lonely.id), timeout=10)
    assert cluster.query("apac", "primary", "SELECT count(*) FROM course_modules WHERE course_id = %s",
                         (lonely.id,)) == [(0,)]
    with pytest.raises(grpc.RpcError) as caught:
        courses.GetCourse(courses_pb.GetCourseRequest(id=lonely.id), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_enroll_is_unavailable_quickly_while_the_courses_service_is_down(cluster, gateway_channel, apac_course):
    learner = student(gateway_channel)
    cluster.cluster.stop_service("courses")
    try:
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as caught:
            # Without a request_id the gateway does not retry, so this is one call with its 3 s dependency deadline.
            enrollments(gateway_channel).Enroll(pb.EnrollRequest(student_id=learner.id, course_id=apac_course.id),
                                                timeout=10)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert time.monotonic() - started < 5
        assert "courses" in caught.value.details()
    finally:
        cluster.cluster.start_service("courses")
    assert cluster.query("eu", "primary", "SELECT count(*) FROM enrollments WHERE student_id = %s",
                         (learner.id,)) == [(0,)]


def test_a_user_with_enrollments_cannot_be_deleted(cluster, gateway_channel, apac_course):
    from elearning.users.v1 import users_service_pb2_grpc
    learner = student(gateway_channel)
    enrollments(gateway_channel).Enroll(pb.EnrollRequest(student_id=learner.id, course_id=apac_course.id),
                                        timeout=10)
    with pytest.raises(grpc.RpcError) as caught:
        users_service_pb2_grpc.UserServiceStub(gateway_channel).DeleteUser(users_pb.DeleteUserRequest(
            id=learner.id), timeout=10)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert cluster.query("eu", "primary", "SELECT count(*) FROM users WHERE id = %s", (learner.id,)) == [(1,)]
