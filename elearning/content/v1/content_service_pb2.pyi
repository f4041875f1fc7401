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

class ContentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTENT_KIND_UNSPECIFIED: _ClassVar[ContentKind]
    CONTENT_KIND_VIDEO: _ClassVar[ContentKind]
    CONTENT_KIND_DOCUMENT: _ClassVar[ContentKind]

class Theme(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    THEME_UNSPECIFIED: _ClassVar[Theme]
    THEME_LIGHT: _ClassVar[Theme]
    THEME_DARK: _ClassVar[Theme]
    THEME_SYSTEM: _ClassVar[Theme]
CONTENT_KIND_UNSPECIFIED: ContentKind
CONTENT_KIND_VIDEO: ContentKind
CONTENT_KIND_DOCUMENT: ContentKind
THEME_UNSPECIFIED: Theme
THEME_LIGHT: Theme
THEME_DARK: Theme
THEME_SYSTEM: Theme

class ContentItem(_message.Message):
    __slots__ = ("id", "course_id", "lesson_id", "region", "kind", "title", "description", "tags", "position", "video", "document", "version", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    course_id: int
    lesson_id: int
    region: _common_pb2.Region
    kind: ContentKind
    title: str
    description: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    position: int
    video: VideoDetails
    document: DocumentDetails
    version: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., course_id: _Optional[int] = ..., lesson_id: _Optional[int] = ..., region: _Optional[_Union[_common_pb2.Region, str]] = ..., kind: _Optional[_Union[ContentKind, str]] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., position: _Optional[int] = ..., video: _Optional[_Union[VideoDetails, _Mapping]] = ..., document: _Optional[_Union[DocumentDetails, _Mapping]] = ..., version: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VideoDetails(_message.Message):
    __slots__ = ("duration_seconds", "renditions", "storage_url", "transcript")
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RENDITIONS_FIELD_NUMBER: _ClassVar[int]
    STORAGE_URL_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    duration_seconds: int
    renditions: _containers.RepeatedCompositeFieldContainer[Rendition]
    storage_url: str
    transcript: str
    def __init__(self, duration_seconds: _Optional[int] = ..., renditions: _Optional[_Iterable[_Union[Rendition, _Mapping]]] = ..., storage_url: _Optional[str] = ..., transcript: _Optional[str] = ...) -> None: ...

class Rendition(_message.Message):
    __slots__ = ("resolution", "bitrate_kbps", "url")
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    BITRATE_KBPS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    resolution: str
    bitrate_kbps: int
    url: str
    def __init__(self, resolution: _Optional[str] = ..., bitrate_kbps: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...

class DocumentDetails(_message.Message):
    __slots__ = ("mime_type", "size_bytes", "page_count", "url")
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    PAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    mime_type: str
    size_bytes: int
    page_count: int
    url: str
    def __init__(self, mime_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., page_count: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...

class UserPreferences(_message.Message):
    __slots__ = ("user_id", "language", "playback_speed", "captions_enabled", "caption_language", "notifications", "theme", "update_time", "version")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PLAYBACK_SPEED_FIELD_NUMBER: _ClassVar[int]
    CAPTIONS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    CAPTION_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    language: str
    playback_speed: float
    captions_enabled: bool
    caption_language: str
    notifications: NotificationSettings
    theme: Theme
    update_time: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, user_id: _Optional[int] = ..., language: _Optional[str] = ..., playback_speed: _Optional[float] = ..., captions_enabled: _Optional[bool] = ..., caption_language: _Optional[str] = ..., notifications: _Optional[_Union[NotificationSettings, _Mapping]] = ..., theme: _Optional[_Union[Theme, str]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class NotificationSettings(_message.Message):
    __slots__ = ("email_enabled", "push_enabled", "weekly_digest", "course_updates")
    EMAIL_ENABLED_FIELD_NUMBER: _ClassVar[int]
    PUSH_ENABLED_FIELD_NUMBER: _ClassVar[int]
    WEEKLY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    COURSE_UPDATES_FIELD_NUMBER: _ClassVar[int]
    email_enabled: bool
    push_enabled: bool
    weekly_digest: bool
    course_updates: bool
    def __init__(self, email_enabled: _Optional[bool] = ..., push_enabled: _Optional[bool] = ..., weekly_digest: _Optional[bool] = ..., course_updates: _Optional[bool] = ...) -> None: ...

class CreateContentRequest(_message.Message):
    __slots__ = ("content_item", "request_id")
    CONTENT_ITEM_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    content_item: ContentItem
    request_id: str
    def __init__(self, content_item: _Optional[_Union[ContentItem, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetContentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListContentRequest(_message.Message):
    __slots__ = ("course_id", "lesson_id", "kind", "page_size", "page_token")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    LESSON_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    course_id: int
    lesson_id: int
    kind: ContentKind
    page_size: int
    page_token: str
    def __init__(self, course_id: _Optional[int] = ..., lesson_id: _Optional[int] = ..., kind: _Optional[_Union[ContentKind, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListContentResponse(_message.Message):
    __slots__ = ("content_items", "next_page_token")
    CONTENT_ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    content_items: _containers.RepeatedCompositeFieldContainer[ContentItem]
    next_page_token: str
    def __init__(self, content_items: _Optional[_Iterable[_Union[ContentItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateContentRequest(_message.Message):
    __slots__ = ("content_item", "update_mask")
    CONTENT_ITEM_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    content_item: ContentItem
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, content_item: _Optional[_Union[ContentItem, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteContentRequest(_message.Message):
    __slots__ = ("id", "expected_version")
    ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    expected_version: int
    def __init__(self, id: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class GetPreferencesRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class UpdatePreferencesRequest(_message.Message):
    __slots__ = ("preferences", "update_mask")
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    preferences: UserPreferences
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, preferences: _Optional[_Union[UserPreferences, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...
