"""The content domain model: plain values, free of gRPC and of the database driver."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("VIDEO", "DOCUMENT")
THEMES = ("LIGHT", "DARK", "SYSTEM")
NOTIFICATION_FIELDS = ("email_enabled", "push_enabled", "weekly_digest", "course_updates")


@dataclass(frozen=True)
class Rendition:
    resolution: str
    bitrate_kbps: int
    url: str


@dataclass(frozen=True)
class Video:
    duration_seconds: int = 0
    renditions: tuple[Rendition, ...] = ()
    storage_url: str = ""
    transcript: str = ""


@dataclass(frozen=True)
class Document:
    mime_type: str = ""
    size_bytes: int = 0
    page_count: int = 0
    url: str = ""


@dataclass(frozen=True)
class Content:
    """What a client writes about a content item; `video` or `document` is set, matching `kind`."""

    course_id: int
    lesson_id: int
    kind: str
    title: str
    description: str = ""
    tags: tuple[str, ...] = ()
    position: int = 0
    video: Video | None = None
    document: Document | None = None


@dataclass(frozen=True)
class ContentItem:
    """A stored content item. `id` is a document ID ("<shard number>-<ObjectId hex>", see shared.ids)."""

    id: str
    region: str
    content: Content
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ListPosition:
    """The sort key of a listed item: lesson, then position, then ObjectId."""

    lesson_id: int
    position: int
    object_id: str


@dataclass(frozen=True)
class Course:
    """What the content service needs to know of a course, as the courses service reports it."""

    id: int
    region: str
    lesson_ids: frozenset[int] = frozenset()
    instructor_id: int = 0


@dataclass(frozen=True)
class Notifications:
    email_enabled: bool = True
    push_enabled: bool = False
    weekly_digest: bool = True
    course_updates: bool = True


@dataclass(frozen=True)
class Preferences:
    """A user's preferences; the field defaults are what a user with none stored reads (version 0)."""

    user_id: int
    language: str = ""
    playback_speed: float = 1.0
    captions_enabled: bool = False
    caption_language: str = ""
    notifications: Notifications = field(default_factory=Notifications)
    theme: str = "SYSTEM"
    version: int = 0
    updated_at: datetime | None = None
