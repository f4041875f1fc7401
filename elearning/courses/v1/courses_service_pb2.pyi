import datetime

from elearning.common.v1 import common_pb2 as _common_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CourseLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COURSE_LEVEL_UNSPECIFIED: _ClassVar[CourseLevel]
    COURSE_LEVEL_BEGINNER: _ClassVar[CourseLevel]
    COURSE_LEVEL_INTERMEDIATE: _ClassVar[CourseLevel]
    COURSE_LEVEL_ADVANCED: _ClassVar[CourseLevel]

class CourseState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COURSE_STATE_UNSPECIFIED: _ClassVar[CourseState]
    COURSE_STATE_DRAFT: _ClassVar[CourseState]
    COURSE_STATE_PUBLISHED: _ClassVar[CourseState]
    COURSE_STATE_ARCHIVED: _ClassVar[CourseState]

class LessonKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LESSON_KIND_UNSPECIFIED: _ClassVar[LessonKind]
    LESSON_KIND_VIDEO: _ClassVar[LessonKind]
    LESSON_KIND_ARTICLE: _ClassVar[LessonKind]
    LESSON_KIND_QUIZ: _ClassVar[LessonKind]
COURSE_LEVEL_UNSPECIFIED: CourseLevel
COURSE_LEVEL_BEGINNER: CourseLevel
COURSE_LEVEL_INTERMEDIATE: CourseLevel
COURSE_LEVEL_ADVANCED: CourseLevel
COURSE_STATE_UNSPECIFIED: CourseState
COURSE_STATE_DRAFT: CourseState
COURSE_STATE_PUBLISHED: CourseState
COURSE_STATE_ARCHIVED: CourseState
LESSON_KIND_UNSPECIFIED: LessonKind
LESSON_KIND_VIDEO: LessonKind
LESSON_KIND_ARTICLE: LessonKind
LESSON_KIND_QUIZ: LessonKind

class Category(_message.Message):
    __slots__ = ("id", "name", "slug", "description", "parent_id", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    slug: str
    description: str
    parent_id: int
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., slug: _Optional[str] = ..., description: _Optional[str] = ..., parent_id: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Course(_message.Message):
    __slots__ = ("id", "instructor_id", "region", "category_id", "title", "subtitle", "description", "language", "level", "price", "state", "average_rating", "review_count", "enrollment_count", "duration_minutes", "modules", "create_time", "update_time", "publish_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTOR_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUBTITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RATING_FIELD_NUMBER: _ClassVar[int]
    REVIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    MODULES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    instructor_id: int
    region: _common_pb2.Region
    category_id: int
    title: str
    subtitle: str
    description: str
    language: str
    level: CourseLevel
    price: _common_pb2.Money
    state: CourseState
    average_rating: float
    review_count: int
    enrollment_count: int
    duration_minutes: int
    modules: _containers.RepeatedCompositeFieldContainer[Module]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    publish_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., instructor_id: _Optional[int] = ..., region: _Optional[_Union[_common_pb2.Region, str]] = ..., category_id: _Optional[int] = ..., title: _Optional[str] = ..., subtitle: _Optional[str] = ..., description: _Optional[str] = ..., language: _Optional[str] = ..., level: _Optional[_Union[CourseLevel, str]] = ..., price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., state: _Optional[_Union[CourseState, str]] = ..., average_rating: _Optional[float] = ..., review_count: _Optional[int] = ..., enrollment_count: _Optional[int] = ..., duration_minutes: _Optional[int] = ..., modules: _Optional[_Iterable[_Union[Module, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Module(_message.Message):
    __slots__ = ("id", "course_id", "title", "position", "lessons")
    ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    LESSONS_FIELD_NUMBER: _ClassVar[int]
    id: int
    course_id: int
    title: str
    position: int
    lessons: _containers.RepeatedCompositeFieldContainer[Lesson]
    def __init__(self, id: _Optional[int] = ..., course_id: _Optional[int] = ..., title: _Optional[str] = ..., position: _Optional[int] = ..., lessons: _Optional[_Iterable[_Union[Lesson, _Mapping]]] = ...) -> None: ...

class Lesson(_message.Message):
    __slots__ = ("id", "module_id", "title", "position", "kind", "duration_seconds", "is_preview")
    ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    IS_PREVIEW_FIELD_NUMBER: _ClassVar[int]
    id: int
    module_id: int
    title: str
    position: int
    kind: LessonKind
    duration_seconds: int
    is_preview: bool
    def __init__(self, id: _Optional[int] = ..., module_id: _Optional[int] = ..., title: _Optional[str] = ..., position: _Optional[int] = ..., kind: _Optional[_Union[LessonKind, str]] = ..., duration_seconds: _Optional[int] = ..., is_preview: _Optional[bool] = ...) -> None: ...

class Review(_message.Message):
    __slots__ = ("id", "course_id", "student_id", "rating", "comment", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    STUDENT_ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    course_id: int
    student_id: int
    rating: int
    comment: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., course_id: _Optional[int] = ..., student_id: _Optional[int] = ..., rating: _Optional[int] = ..., comment: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CourseStatistics(_message.Message):
    __slots__ = ("course_id", "enrollment_count", "completion_count", "cancellation_count", "average_progress_percent", "average_rating", "review_count", "revenue")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CANCELLATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RATING_FIELD_NUMBER: _ClassVar[int]
    REVIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    course_id: int
    enrollment_count: int
    completion_count: int
    cancellation_count: int
    average_progress_percent: float
    average_rating: float
    review_count: int
    revenue: _common_pb2.Money
    def __init__(self, course_id: _Optional[int] = ..., enrollment_count: _Optional[int] = ..., completion_count: _Optional[int] = ..., cancellation_count: _Optional[int] = ..., average_progress_percent: _Optional[float] = ..., average_rating: _Optional[float] = ..., review_count: _Optional[int] = ..., revenue: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class CreateCategoryRequest(_message.Message):
    __slots__ = ("category", "request_id")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    category: Category
    request_id: str
    def __init__(self, category: _Optional[_Union[Category, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetCategoryRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListCategoriesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCategoriesResponse(_message.Message):
    __slots__ = ("categories", "next_page_token")
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedCompositeFieldContainer[Category]
    next_page_token: str
    def __init__(self, categories: _Optional[_Iterable[_Union[Category, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateCourseRequest(_message.Message):
    __slots__ = ("course", "request_id")
    COURSE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    course: Course
    request_id: str
    def __init__(self, course: _Optional[_Union[Course, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetCourseRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListCoursesRequest(_message.Message):
    __slots__ = ("category_id", "region", "instructor_id", "state", "page_size", "page_token")
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    category_id: int
    region: _common_pb2.Region
    instructor_id: int
    state: CourseState
    page_size: int
    page_token: str
    def __init__(self, category_id: _Optional[int] = ..., region: _Optional[_Union[_common_pb2.Region, str]] = ..., instructor_id: _Optional[int] = ..., state: _Optional[_Union[CourseState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCoursesResponse(_message.Message):
    __slots__ = ("courses", "next_page_token")
    COURSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    courses: _containers.RepeatedCompositeFieldContainer[Course]
    next_page_token: str
    def __init__(self, courses: _Optional[_Iterable[_Union[Course, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateCourseRequest(_message.Message):
    __slots__ = ("course", "update_mask")
    COURSE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    course: Course
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, course: _Optional[_Union[Course, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class PublishCourseRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class DeleteCourseRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class AddReviewRequest(_message.Message):
    __slots__ = ("course_id", "review", "request_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: int
    review: Review
    request_id: str
    def __init__(self, course_id: _Optional[int] = ..., review: _Optional[_Union[Review, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListReviewsRequest(_message.Message):
    __slots__ = ("course_id", "page_size", "page_token")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    course_id: int
    page_size: int
    page_token: str
    def __init__(self, course_id: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReviewsResponse(_message.Message):
    __slots__ = ("reviews", "next_page_token")
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    reviews: _containers.RepeatedCompositeFieldContainer[Review]
    next_page_token: str
    def __init__(self, reviews: _Optional[_Iterable[_Union[Review, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCourseStatisticsRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: int
    def __init__(self, course_id: _Optional[int] = ...) -> None: ...
