"""The gRPC edge of the courses service: proto ↔ domain, nothing else."""
from __future__ import annotations

from google.protobuf import empty_pb2

from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as pb
from elearning.courses.v1 import courses_service_pb2_grpc as pb_grpc
from services.courses.domain import Category, Course, Lesson, Module, Review
from services.courses.service import UPDATABLE, CourseService
from shared.money import format_amount
from shared.proto_values import enum_name, enum_value, region_name, region_value, timestamp


def category_proto(c: Category) -> pb.Category:
    return pb.Category(id=c.id, name=c.name, slug=c.slug, description=c.description, parent_id=c.parent_id,
                       create_time=timestamp(c.created_at))


def course_proto(c: Course) -> pb.Course:
    return pb.Course(
        id=c.id, instructor_id=c.instructor_id, region=region_value(c.region), category_id=c.category_id,
        title=c.title, subtitle=c.subtitle, description=c.description, language=c.language,
        level=enum_value(pb.CourseLevel, c.level), price=common_pb2.Money(currency_code=c.currency,
                                                                    amount=format_amount(c.price)),
        state=enum_value(pb.CourseState, c.state), average_rating=c.average_rating, review_count=c.review_count,
        enrollment_count=c.enrollment_count, duration_minutes=c.duration_minutes,
        modules=[pb.Module(id=m.id, course_id=m.course_id, title=m.title, position=m.position, lessons=[
            pb.Lesson(id=lesson.id, module_id=lesson.module_id, title=lesson.title, position=lesson.position,
                      kind=enum_value(pb.LessonKind, lesson.kind), duration_seconds=lesson.duration_seconds,
                      is_preview=lesson.is_preview) for lesson in m.lessons]) for m in c.modules],
        create_time=timestamp(c.created_at), update_time=timestamp(c.updated_at),
        publish_time=timestamp(c.published_at))


def review_proto(r: Review) -> pb.Review:
    return pb.Review(id=r.id, course_id=r.course_id, student_id=r.student_id, rating=r.rating, comment=r.comment,
                     create_time=timestamp(r.created_at), update_time=timestamp(r.updated_at))


def _modules(course: pb.Course) -> list[Module]:
    return [Module(title=m.title, lessons=tuple(
        Lesson(title=lesson.title, kind=enum_name(pb.LessonKind, lesson.kind, "course.modules.lessons.kind"),
               duration_seconds=lesson.duration_seconds, is_preview=lesson.is_preview) for lesson in m.lessons))
        for m in course.modules]


class CourseApi(pb_grpc.CourseServiceServicer):
    def __init__(self, service: CourseService):
        self.service = service

    def CreateCategory(self, request, context):
        c = request.category
        return category_proto(self.service.create_category(c.name, c.slug, c.description, c.parent_id,
                                                           request.request_id))

    def GetCategory(self, request, context):
        return category_proto(self.service.get_category(request.id))

    def ListCategories(self, request, context):
        rows, token = self.service.list_categories(request.page_size, request.page_token)
        return pb.ListCategoriesResponse(categories=[category_proto(c) for c in rows], next_page_token=token)

    def CreateCourse(self, request, context):
        c = request.course
        return course_proto(self.service.create_course(
            c.instructor_id, c.category_id, c.title, c.subtitle, c.description, c.language,
            enum_name(pb.CourseLevel, c.level, "course.level"), c.price.amount, c.price.currency_code,
            _modules(c), request.request_id))

    def GetCourse(self, request, context):
        return course_proto(self.service.get_course(request.id))

    def ListCourses(self, request, context):
        region = region_name(request.region)
        rows, token = self.service.list_courses(
            request.category_id, "" if region == "REGION_UNSPECIFIED" else region, request.instructor_id,
            "" if not request.state else enum_name(pb.CourseState, request.state, "state"),
            request.page_size, request.page_token)
        return pb.ListCoursesResponse(courses=[course_proto(c) for c in rows], next_page_token=token)

    def UpdateCourse(self, request, context):
        c = request.course
        paths = list(request.update_mask.paths) or [f.name for f, _ in c.ListFields() if f.name in UPDATABLE]
        return course_proto(self.service.update_course(
            c.id, paths, c.title, c.subtitle, c.description, c.category_id, c.language,
            enum_name(pb.CourseLevel, c.level, "course.level"), c.price.amount, c.price.currency_code,
            enum_name(pb.CourseState, c.state, "course.state"), _modules(c)))

    def PublishCourse(self, request, context):
        return course_proto(self.service.publish_course(request.id))

    def DeleteCourse(self, request, context):
        self.service.delete_course(request.id)
        return empty_pb2.Empty()

    def GetCourseStatistics(self, request, context):
        s = self.service.statistics(request.course_id)
        return pb.CourseStatistics(
            course_id=s.course_id, enrollment_count=s.enrollment_count, completion_count=s.completion_count,
            cancellation_count=s.cancellation_count, average_progress_percent=s.average_progress_percent,
            average_rating=s.average_rating, review_count=s.review_count,
            revenue=common_pb2.Money(currency_code=s.currency, amount=format_amount(s.revenue)))

    def AddReview(self, request, context):
        r = request.review
        return review_proto(self.service.add_review(request.course_id, r.student_id, r.rating, r.comment,
                                                    request.request_id))

    def ListReviews(self, request, context):
        rows, token = self.service.list_reviews(request.course_id, request.page_size, request.page_token)
        return pb.ListReviewsResponse(reviews=[review_proto(r) for r in rows], next_page_token=token)
