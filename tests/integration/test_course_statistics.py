"""GetCourseStatistics gathers enrollments, progress, rating and revenue from every shard at read time."""
from __future__ import annotations

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from tests.integration import courses_client
from tests.integration.payments_client import (
    add_card,
    enroll,
    enrollments,
    payment_request,
    published_course,
    stub,
    student,
)


def test_statistics_add_up_over_students_of_every_shard(gateway_channel):
    course = published_course(gateway_channel, region="ASIA", amount="30.00", currency="USD")
    lessons = [lesson.id for m in course.modules for lesson in m.lessons]
    learners = [student(gateway_channel, region) for region in ("EUROPE", "NORTH_AMERICA", "OCEANIA")]
    made = [enroll(gateway_channel, s.id, course.id) for s in learners]
    for lesson in lessons:  # the European student completes the course
        enrollments(gateway_channel).RecordLessonProgress(enrollments_pb.RecordLessonProgressRequest(
            enrollment_id=made[0].id, lesson_id=lesson, watched_seconds=60, completed=True), timeout=5)
    enrollments(gateway_channel).CancelEnrollment(enrollments_pb.CancelEnrollmentRequest(id=made[2].id), timeout=5)
    for learner, enrollment in zip(learners[:2], made[:2], strict=True):  # two students pay
        card = add_card(gateway_channel, learner.id)
        stub(gateway_channel).CreatePayment(payment_request(
            "30.00", "USD", user_id=learner.id, enrollment_id=enrollment.id, payment_method_id=card.id), timeout=10)
    courses = courses_client.stub(gateway_channel)
    courses.AddReview(courses_pb.AddReviewRequest(course_id=course.id, review=courses_pb.Review(
        student_id=learners[0].id, rating=4)), timeout=10)

    stats = courses.GetCourseStatistics(courses_pb.GetCourseStatisticsRequest(course_id=course.id), timeout=10)

    assert (stats.enrollment_count, stats.completion_count, stats.cancellation_count) == (3, 1, 1)
    assert stats.average_progress_percent == 50.0  # 100 and 0 over the two live enrollments
    assert (stats.average_rating, stats.review_count) == (4.0, 1)
    assert (stats.revenue.amount, stats.revenue.currency_code) == ("60.00", "USD")
