import datetime

from elearning.common.v1 import common_pb2 as _common_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnrollmentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENROLLMENT_STATE_UNSPECIFIED: _ClassVar[EnrollmentState]
    ENROLLMENT_STATE_ACTIVE: _ClassVar[EnrollmentState]
    ENROLLMENT_STATE_COMPLETED: _ClassVar[EnrollmentState]
    ENROLLMENT_STATE_CANCELLED: _ClassVar[EnrollmentState]

class PaymentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_STATE_UNSPECIFIED: _ClassVar[PaymentState]
    PAYMENT_STATE_UNPAID: _ClassVar[PaymentState]
    PAYMENT_STATE_PAID: _ClassVar[PaymentState]
    PAYMENT_STATE_REFUNDED: _ClassVar[PaymentState]

class LessonProgressState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LESSON_PROGRESS_STATE_UNSPECIFIED: _ClassVar[LessonProgressState]
    LESSON_PROGRESS_STATE_NOT_STARTED: _ClassVar[LessonProgressState]
    LESSON_PROGRESS_STATE_IN_PROGRESS: _ClassVar[LessonProgressState]
    LESSON_PROGRESS_STATE_COMPLETED: _ClassVar[LessonProgressState]
ENROLLMENT_STATE_UNSPECIFIED: EnrollmentState
ENROLLMENT_STATE_ACTIVE: EnrollmentState
ENROLLMENT_STATE_COMPLETED: EnrollmentState
ENROLLMENT_STATE_CANCELLED: EnrollmentState
PAYMENT_STATE_UNSPECIFIED: PaymentState
PAYMENT_STATE_UNPAID: PaymentState
PAYMENT_STATE_PAID: PaymentState
PAYMENT_STATE_REFUNDED: PaymentState
LESSON_PROGRESS_STATE_UNSPECIFIED: LessonProgressState
LESSON_PROGRESS_STATE_NOT_STARTED: LessonProgressState
LESSON_PROGRESS_STATE_IN_PROGRESS: LessonProgressState
LESSON_PROGRESS_STATE_COMPLETED: LessonProgressState

class Enrollment(_message.Message):
    __slots__ = ("id", "student_id", "course_id", "region", "state", "payment_state", "progress_percent", "course_title", "course_price", "enroll_time", "complete_time", "cancel_time", "cancel_reason", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    STUDENT_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    COURSE_TITLE_FIELD_NUMBER: _ClassVar[int]
    COURSE_PRICE_FIELD_NUMBER: _ClassVar[int]
    ENROLL_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    student_id: int
    course_id: int
    region: _common_pb2.Region
    state: EnrollmentState
    payment_state: PaymentState
    progress_percent: float
    course_title: str
    course_price: _common_pb2.Money
    enroll_time: _timestamp_pb2.Timestamp
    complete_time: _timestamp_pb2.Timestamp
    cancel_time: _timestamp_pb2.Timestamp
    cancel_reason: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., student_id: _Optional[int] = ..., course_id: _Optional[int] = ..., region: _Optional[_Union[_common_pb2.Region, str]] = ..., state: _Optional[_Union[EnrollmentState, str]] = ..., payment_state: _Optional[_Union[PaymentState, str]] = ..., progress_percent: _Optional[float] = ..., course_title: _Optional[str] = ..., course_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., enroll_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_reason: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LessonProgress(_message.Message):
    __slots__ = ("enrollment_id", "lesson_id", "state", "watched_seconds", "last_position_seconds", "update_time", "complete_time")
    ENROLLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    WATCHED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LAST_POSITION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    enrollment_id: int
    lesson_id: int
    state: LessonProgressState
    watched_seconds: int
    last_position_seconds: int
    update_time: _timestamp_pb2.Timestamp
    complete_time: _timestamp_pb2.Timestamp
    def __init__(self, enrollment_id: _Optional[int] = ..., lesson_id: _Optional[int] = ..., state: _Optional[_Union[LessonProgressState, str]] = ..., watched_seconds: _Optional[int] = ..., last_position_seconds: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EnrollRequest(_message.Message):
    __slots__ = ("student_id", "course_id", "request_id")
    STUDENT_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    student_id: int
    course_id: int
    request_id: str
    def __init__(self, student_id: _Optional[int] = ..., course_id: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetEnrollmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListEnrollmentsRequest(_message.Message):
    __slots__ = ("student_id", "state", "page_size", "page_token")
    STUDENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    student_id: int
    state: EnrollmentState
    page_size: int
    page_token: str
    def __init__(self, student_id: _Optional[int] = ..., state: _Optional[_Union[EnrollmentState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEnrollmentsResponse(_message.Message):
    __slots__ = ("enrollments", "next_page_token")
    ENROLLMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    enrollments: _containers.RepeatedCompositeFieldContainer[Enrollment]
    next_page_token: str
    def __init__(self, enrollments: _Optional[_Iterable[_Union[Enrollment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RecordLessonProgressRequest(_message.Message):
    __slots__ = ("enrollment_id", "lesson_id", "watched_seconds", "position_seconds", "completed")
    ENROLLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    WATCHED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    POSITION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    enrollment_id: int
    lesson_id: int
    watched_seconds: int
    position_seconds: int
    completed: bool
    def __init__(self, enrollment_id: _Optional[int] = ..., lesson_id: _Optional[int] = ..., watched_seconds: _Optional[int] = ..., position_seconds: _Optional[int] = ..., completed: _Optional[bool] = ...) -> None: ...

class RecordLessonProgressResponse(_message.Message):
    __slots__ = ("lesson_progress", "enrollment")
    LESSON_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_FIELD_NUMBER: _ClassVar[int]
    lesson_progress: LessonProgress
    enrollment: Enrollment
    def __init__(self, lesson_progress: _Optional[_Union[LessonProgress, _Mapping]] = ..., enrollment: _Optional[_Union[Enrollment, _Mapping]] = ...) -> None: ...

class BatchRecordLessonProgressRequest(_message.Message):
    __slots__ = ("requests", "request_id", "read_mask")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    READ_MASK_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[RecordLessonProgressRequest]
    request_id: str
    read_mask: _field_mask_pb2.FieldMask
    def __init__(self, requests: _Optional[_Iterable[_Union[RecordLessonProgressRequest, _Mapping]]] = ..., request_id: _Optional[str] = ..., read_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class BatchRecordLessonProgressResult(_message.Message):
    __slots__ = ("status", "lesson_progress", "enrollment")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LESSON_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.ItemStatus
    lesson_progress: LessonProgress
    enrollment: Enrollment
    def __init__(self, status: _Optional[_Union[_common_pb2.ItemStatus, _Mapping]] = ..., lesson_progress: _Optional[_Union[LessonProgress, _Mapping]] = ..., enrollment: _Optional[_Union[Enrollment, _Mapping]] = ...) -> None: ...

class BatchRecordLessonProgressResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchRecordLessonProgressResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchRecordLessonProgressResult, _Mapping]]] = ...) -> None: ...

class ListLessonProgressRequest(_message.Message):
    __slots__ = ("enrollment_id", "page_size", "page_token")
    ENROLLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    enrollment_id: int
    page_size: int
    page_token: str
    def __init__(self, enrollment_id: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLessonProgressResponse(_message.Message):
    __slots__ = ("lesson_progress", "next_page_token")
    LESSON_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    lesson_progress: _containers.RepeatedCompositeFieldContainer[LessonProgress]
    next_page_token: str
    def __init__(self, lesson_progress: _Optional[_Iterable[_Union[LessonProgress, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelEnrollmentRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: int
    reason: str
    def __init__(self, id: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class CountCourseEnrollmentsRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: int
    def __init__(self, course_id: _Optional[int] = ...) -> None: ...

class CountCourseEnrollmentsResponse(_message.Message):
    __slots__ = ("enrollment_count",)
    ENROLLMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    enrollment_count: int
    def __init__(self, enrollment_count: _Optional[int] = ...) -> None: ...
