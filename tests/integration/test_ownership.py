"""Ownership of stored resources, with real rows: another student's enrollment, progress, card, transaction and
invoice, another instructor's course, draft and content all read as NOT_FOUND (their existence does not leak),
and a refused write changes nothing in the database; the owner and an admin still succeed."""
from __future__ import annotations

import grpc
import pytest

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.payments.v1 import payments_service_pb2 as payments_pb
from elearning.users.v1 import users_service_pb2 as users_pb
from shared.proto_values import enum_name
from tests.channels import code_of, open_channel, token_for
from tests.integration import content_client, courses_client, payments_client

NOT_FOUND = grpc.StatusCode.NOT_FOUND


@pytest.fixture(scope="module")
def world(cluster, gateway_channel):
    """Two instructors (a published course and a draft of the first), and two paying students of the course."""
    admin = gateway_channel
    teacher, rival = courses_client.instructor(admin, "EUROPE"), courses_client.instructor(admin, "ASIA")
    category = courses_client.category(admin)
    course = courses_client.course(admin, teacher.id, category.id)
    course = courses_client.stub(admin).PublishCourse(courses_pb.PublishCourseRequest(id=course.id), timeout=5)
    draft = courses_client.course(admin, teacher.id, category.id, title="Unreleased")
    alice, bob = payments_client.payer(admin, course), payments_client.payer(admin, course)
    paid = payments_client.stub(admin).CreatePayment(alice.request(), timeout=10)
    item = content_client.create(admin, content_client.video_item(course.id))
    return dict(teacher=teacher, rival=rival, course=course, draft=draft, alice=alice, bob=bob, paid=paid,
                item=item)


def channel_of(cluster, user: users_pb.User, target: str | None = None) -> grpc.Channel:
    role = enum_name(users_pb.UserRole, user.role, "role")
    return open_channel(cluster, target or cluster.gateway, token=token_for(cluster, user.id, role))


def test_a_student_cannot_touch_another_students_enrollment_progress_or_card(cluster, world):
    alice, bob = world["alice"], world["bob"]
    enrollment, card = alice.enrollment, alice.card
    lesson = world["course"].modules[0].lessons[0].id
    for target in (cluster.gateway, cluster.service("enrollments")):
        with channel_of(cluster, bob.user, target) as channel:
            enrollments = payments_client.enrollments(channel)
            assert code_of(lambda: enrollments.GetEnrollment(
                enrollments_pb.GetEnrollmentRequest(id=enrollment.id), timeout=5)) == NOT_FOUND
            assert code_of(lambda: enrollments.CancelEnrollment(
                enrollments_pb.CancelEnrollmentRequest(id=enrollment.id), timeout=5)) == NOT_FOUND
            assert code_of(lambda: enrollments.RecordLessonProgress(enrollments_pb.RecordLessonProgressRequest(
                enrollment_id=enrollment.id, lesson_id=lesson, watched_seconds=10), timeout=5)) == NOT_FOUND
            assert code_of(lambda: enrollments.ListLessonProgress(
                enrollments_pb.ListLessonProgressRequest(enrollment_id=enrollment.id), timeout=5)) == NOT_FOUND
    with channel_of(cluster, bob.user) as channel:
        payments = payments_client.stub(channel)
        assert code_of(lambda: payments.DeletePaymentMethod(
            payments_pb.DeletePaymentMethodRequest(id=card.id), timeout=5)) == NOT_FOUND
        assert code_of(lambda: payments.GetTransaction(
            payments_pb.GetTransactionRequest(id=world["paid"].transaction.id), timeout=5)) == NOT_FOUND
        assert code_of(lambda: payments.GetInvoice(
            payments_pb.GetInvoiceRequest(id=world["paid"].invoice.id), timeout=5)) == NOT_FOUND
    shard = "eu"
    assert cluster.query(shard, "primary", "SELECT state FROM enrollments WHERE id = %s",
                         (enrollment.id,)) == [("ACTIVE",)]
    assert cluster.query(shard, "primary", "SELECT count(*) FROM lesson_progress WHERE enrollment_id = %s",
                         (enrollment.id,)) == [(0,)]
    assert cluster.query(shard, "primary", "SELECT deleted_at IS NULL FROM payment_methods WHERE id = %s",
                         (card.id,)) == [(True,)]
    with channel_of(cluster, alice.user) as channel:
        enrollments = payments_client.enrollments(channel)
        assert enrollments.GetEnrollment(enrollments_pb.GetEnrollmentRequest(id=enrollment.id), timeout=5).id
        enrollments.RecordLessonProgress(enrollments_pb.RecordLessonProgressRequest(
            enrollment_id=enrollment.id, lesson_id=lesson, watched_seconds=10), timeout=5)
        assert payments_client.stub(channel).GetInvoice(
            payments_pb.GetInvoiceRequest(id=world["paid"].invoice.id), timeout=5).user_id == alice.user.id


def test_an_instructor_manages_only_their_own_courses_and_content(cluster, world):
    course, draft, item = world["course"], world["draft"], world["item"]
    with channel_of(cluster, world["rival"]) as channel:
        courses = courses_client.stub(channel)
        assert code_of(lambda: courses.UpdateCourse(courses_pb.UpdateCourseRequest(
            course=courses_pb.Course(id=course.id, title="Hijacked")), timeout=5)) == NOT_FOUND
        assert code_of(lambda: courses.DeleteCourse(courses_pb.DeleteCourseRequest(id=draft.id), timeout=5)) == \
            NOT_FOUND
        assert code_of(lambda: courses.PublishCourse(courses_pb.PublishCourseRequest(id=draft.id), timeout=5)) == \
            NOT_FOUND
        assert code_of(lambda: courses.GetCourse(courses_pb.GetCourseRequest(id=draft.id), timeout=5)) == NOT_FOUND
        assert code_of(lambda: courses.GetCourseStatistics(courses_pb.GetCourseStatisticsRequest(
            course_id=course.id), timeout=5)) == NOT_FOUND
        content = content_client.stub(channel)
        assert code_of(lambda: content.UpdateContent(content_client.pb.UpdateContentRequest(
            content_item=content_client.pb.ContentItem(id=item.id, version=item.version, title="Hijacked")),
            timeout=5)) == NOT_FOUND
        assert code_of(lambda: content.DeleteContent(content_client.pb.DeleteContentRequest(id=item.id),
                                                     timeout=5)) == NOT_FOUND
        assert code_of(lambda: content_client.create(channel, content_client.video_item(course.id))) == \
            grpc.StatusCode.FAILED_PRECONDITION
    assert cluster.query("eu", "primary", "SELECT title, state FROM courses WHERE id = %s", (course.id,)) == \
        [("Distributed Systems", "PUBLISHED")]
    assert cluster.query("eu", "primary", "SELECT state FROM courses WHERE id = %s", (draft.id,)) == [("DRAFT",)]
    with channel_of(cluster, world["teacher"]) as channel:
        courses = courses_client.stub(channel)
        assert courses.GetCourse(courses_pb.GetCourseRequest(id=draft.id), timeout=5).title == "Unreleased"
        assert courses.GetCourseStatistics(courses_pb.GetCourseStatisticsRequest(course_id=course.id),
                                           timeout=5).course_id == course.id
        assert content_client.stub(channel).GetContent(content_client.pb.GetContentRequest(id=item.id),
                                                       timeout=5).id == item.id


def test_drafts_are_hidden_from_the_public_catalogue(cluster, world):
    listed = courses_pb.ListCoursesRequest(instructor_id=world["teacher"].id, page_size=100)
    with open_channel(cluster, cluster.gateway, token=None) as channel:
        courses = courses_client.stub(channel)
        assert code_of(lambda: courses.GetCourse(courses_pb.GetCourseRequest(id=world["draft"].id), timeout=5)) == \
            NOT_FOUND
        assert {c.id for c in courses.ListCourses(listed, timeout=10).courses} == {world["course"].id}
    with channel_of(cluster, world["teacher"]) as channel:
        assert {c.id for c in courses_client.stub(channel).ListCourses(listed, timeout=10).courses} == \
            {world["course"].id, world["draft"].id}
