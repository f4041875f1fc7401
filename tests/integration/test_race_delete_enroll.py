"""DeleteCourse (on the instructor's shard) racing Enroll (on the student's shard, another one), on the real
cluster: twenty pairs at once, several rounds. No enrollment, lesson progress or charge may be left for a
course that is gone, whoever wins (README: "DeleteCourse racing Enroll")."""
from __future__ import annotations

import grpc
import pytest

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as pb_grpc
from elearning.payments.v1 import payments_service_pb2_grpc as payments_grpc
from tests.channels import open_channel
from tests.integration import courses_client, payments_client
from tests.integration.races import in_parallel, tally, together

REGIONS = ("EUROPE", "ASIA", "NORTH_AMERICA")  # one per shard
SHARDS = ("na", "eu", "apac")
LEFT_BEHIND = (
    "SELECT e.course_id, e.id, (SELECT count(*) FROM lesson_progress p WHERE p.enrollment_id = e.id),"
    " (SELECT count(*) FROM transactions t WHERE t.enrollment_id = e.id AND t.kind = 'CHARGE')"
    " FROM enrollments e WHERE e.course_id = ANY (%s)")


@pytest.fixture(scope="module")
def direct(cluster):
    channels = {name: open_channel(cluster, cluster.service(name)) for name in ("courses", "enrollments",
                                                                               "payments")}
    yield (courses_grpc.CourseServiceStub(channels["courses"]), pb_grpc.EnrollmentServiceStub(channels["enrollments"]),
           payments_grpc.PaymentServiceStub(channels["payments"]))
    for channel in channels.values():
        channel.close()


def pair(channel, category_id: int, i: int):
    """A published course of an instructor on one shard, and a student with a card on the next shard."""
    teacher = courses_client.instructor(channel, REGIONS[i % 3])
    draft = courses_client.course(channel, teacher.id, category_id)
    course = courses_client.stub(channel).PublishCourse(courses_pb.PublishCourseRequest(id=draft.id), timeout=5)
    learner = payments_client.student(channel, REGIONS[(i + 1) % 3])
    return course, learner, payments_client.add_card(channel, learner.id)


def use(direct, course, learner, card, enrolled: pb.Enrollment) -> None:
    """What a student does right after enrolling: start a lesson and pay (each may be refused)."""
    _courses, enrollments, payments = direct
    lesson = course.modules[0].lessons[0].id
    for call in (lambda: enrollments.RecordLessonProgress(pb.RecordLessonProgressRequest(
                     enrollment_id=enrolled.id, lesson_id=lesson, watched_seconds=10), timeout=10),
                 lambda: payments.CreatePayment(payments_client.payment_request(
                     user_id=learner.id, enrollment_id=enrolled.id, payment_method_id=card.id), timeout=10)):
        try:
            call()
        except grpc.RpcError:
            pass


@pytest.mark.slow
def test_delete_course_racing_enroll_leaves_no_orphan_and_no_charge(cluster, gateway_channel, direct):
    courses, enrollments, _payments = direct
    category = courses_client.category(gateway_channel)
    rounds, pairs, orphans, codes = 3, 20, [], {}
    for n in range(rounds):
        made = in_parallel(lambda i: pair(gateway_channel, category.id, n + i), pairs)
        outcomes = together(
            [lambda c=c: courses.DeleteCourse(courses_pb.DeleteCourseRequest(id=c.id), timeout=30)
             for c, _l, _k in made] +
            [lambda c=c, learner=learner: enrollments.Enroll(
                pb.EnrollRequest(student_id=learner.id, course_id=c.id), timeout=30)
             for c, learner, _k in made])
        deletes, enrolls = outcomes[:pairs], outcomes[pairs:]
        for key, group in (("DeleteCourse", deletes), ("Enroll", enrolls)):
            for code, count in tally(group).items():
                codes[f"{key} {code}"] = codes.get(f"{key} {code}", 0) + count
        both = sum(d.code == e.code == "OK" for d, e in zip(deletes, enrolls, strict=True))
        codes["both OK"] = codes.get("both OK", 0) + both
        for (course, learner, card), enrolled in zip(made, enrolls, strict=True):
            if enrolled.code == "OK":
                use(direct, course, learner, card, enrolled.value)
        course_ids = [c.id for c, _l, _k in made]
        gone = {c.id for c in (c for c, _l, _k in made)
                if not cluster.query(cluster.settings().shard_map.for_id(c.id).name, "primary",
                                     "SELECT 1 FROM courses WHERE id = %s", (c.id,))}
        for shard in SHARDS:
            orphans += [row for row in cluster.query(shard, "primary", LEFT_BEHIND, (course_ids,)) if row[0] in gone]
    assert not orphans, (f"{len(orphans)} enrollments (course, id, progress rows, charges) of deleted courses "
                         f"after {rounds} rounds of {pairs} pairs; outcomes {codes}")
    assert codes.get("both OK", 0) == 0, codes
