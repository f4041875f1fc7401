"""The gRPC edge of the enrollments service: proto ↔ domain, nothing else."""
from __future__ import annotations

from elearning.common.v1 import common_pb2
from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as pb_grpc
from services.enrollments.domain import Enrollment, LessonProgress, ProgressItem, ProgressOutcome, Returned
from services.enrollments.service import EnrollmentService
from shared.errors import InvalidArgument
from shared.grpc_errors import item_status
from shared.money import format_amount
from shared.proto_values import enum_name, enum_value, region_value, timestamp


def enrollment_proto(e: Enrollment) -> pb.Enrollment:
    return pb.Enrollment(
        id=e.id, student_id=e.student_id, course_id=e.course_id, region=region_value(e.region),
        state=pb.EnrollmentState.Value(f"ENROLLMENT_STATE_{e.state}"),
        payment_state=enum_value(pb.PaymentState, e.payment_state), progress_percent=e.progress_percent,
        course_title=e.course_title,
        course_price=common_pb2.Money(currency_code=e.course_currency, amount=format_amount(e.course_price)),
        enroll_time=timestamp(e.enrolled_at), complete_time=timestamp(e.completed_at),
        cancel_time=timestamp(e.cancelled_at), cancel_reason=e.cancel_reason, update_time=timestamp(e.updated_at))


def progress_proto(p: LessonProgress) -> pb.LessonProgress:
    return pb.LessonProgress(
        enrollment_id=p.enrollment_id, lesson_id=p.lesson_id,
        state=pb.LessonProgressState.Value(f"LESSON_PROGRESS_STATE_{p.state}"), watched_seconds=p.watched_seconds,
        last_position_seconds=p.last_position_seconds, update_time=timestamp(p.updated_at),
        complete_time=timestamp(p.completed_at))


# The fields of a BatchRecordLessonProgressResult a read_mask may name (each result always has its status).
RESULT_FIELDS = ("status", "lesson_progress", "enrollment")


def returned_fields(paths: list[str]) -> tuple[Returned, frozenset[str]]:
    """What a BatchRecordLessonProgress read_mask asks for: how much the shards return, and which result fields
    to fill (empty: all of them). An unknown path is INVALID_ARGUMENT naming read_mask."""
    unknown = sorted(set(paths) - set(RESULT_FIELDS))
    if unknown:
        raise InvalidArgument("read_mask", f"unknown field(s): {', '.join(unknown)}; "
                                           f"allowed: {', '.join(RESULT_FIELDS)}")
    fields = frozenset(paths or RESULT_FIELDS)
    if "enrollment" in fields:
        return Returned.ALL, fields
    return (Returned.PROGRESS if "lesson_progress" in fields else Returned.STATUS), fields


def fill_batch_result(result: pb.BatchRecordLessonProgressResult, outcome: ProgressOutcome,
                      enrollments: dict[int, pb.Enrollment], fields: frozenset[str] = frozenset(RESULT_FIELDS)) -> None:
    """One item's result with `fields` (its status always), written in place (a third cheaper than building it
    and copying it in). `enrollments`: the protos built so far in this response, by ID. The items of one
    enrollment share its row (read in one statement after the shard's writes), so each is converted once and
    copied."""
    if outcome.error is not None:
        result.status.CopyFrom(item_status(outcome.error))
        return
    result.status.SetInParent()  # OK
    if outcome.progress is not None and "lesson_progress" in fields:
        result.lesson_progress.CopyFrom(progress_proto(outcome.progress))
    if outcome.enrollment is not None and "enrollment" in fields:
        enrollment = enrollments.get(outcome.enrollment.id)
        if enrollment is None:
            enrollment = enrollments[outcome.enrollment.id] = enrollment_proto(outcome.enrollment)
        result.enrollment.CopyFrom(enrollment)


class EnrollmentApi(pb_grpc.EnrollmentServiceServicer):
    def __init__(self, service: EnrollmentService):
        self.service = service

    def Enroll(self, request, context):
        return enrollment_proto(self.service.enroll(request.student_id, request.course_id, request.request_id))

    def GetEnrollment(self, request, context):
        return enrollment_proto(self.service.get_enrollment(request.id))

    def ListEnrollments(self, request, context):
        state = "" if not request.state else enum_name(pb.EnrollmentState, request.state, "state").removeprefix(
            "ENROLLMENT_STATE_")
        rows, token = self.service.list_enrollments(request.student_id, state, request.page_size,
                                                    request.page_token)
        return pb.ListEnrollmentsResponse(enrollments=[enrollment_proto(e) for e in rows], next_page_token=token)

    def RecordLessonProgress(self, request, context):
        progress, enrollment = self.service.record_progress(request.enrollment_id, request.lesson_id,
                                                            request.watched_seconds, request.position_seconds,
                                                            request.completed)
        return pb.RecordLessonProgressResponse(lesson_progress=progress_proto(progress),
                                               enrollment=enrollment_proto(enrollment))

    def BatchRecordLessonProgress(self, request, context):
        returned, fields = returned_fields(list(request.read_mask.paths))
        items = [ProgressItem(r.enrollment_id, r.lesson_id, r.watched_seconds, r.position_seconds, r.completed)
                 for r in request.requests]
        outcomes = self.service.batch_record_progress(items, request.request_id, returned)
        response = pb.BatchRecordLessonProgressResponse()
        enrollments: dict[int, pb.Enrollment] = {}
        for outcome in outcomes:
            fill_batch_result(response.results.add(), outcome, enrollments, fields)
        return response

    def ListLessonProgress(self, request, context):
        rows, token = self.service.list_progress(request.enrollment_id, request.page_size, request.page_token)
        return pb.ListLessonProgressResponse(lesson_progress=[progress_proto(p) for p in rows],
                                             next_page_token=token)

    def CancelEnrollment(self, request, context):
        return enrollment_proto(self.service.cancel(request.id, request.reason))

    def CountCourseEnrollments(self, request, context):
        return pb.CountCourseEnrollmentsResponse(
            enrollment_count=self.service.count_course_enrollments(request.course_id))
