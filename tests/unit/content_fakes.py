"""In-memory fakes of the content service's ports (ContentStore, CourseDirectory), and builders for its tests."""
from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

from services.content.domain import Content, ContentItem, Course, Document, ListPosition, Preferences, Rendition, Video
from services.content.service import ContentService
from shared import ids
from shared.errors import InvalidArgument, NotFound
from shared.sharding import ShardMap

START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeContentStore:
    """Mirrors MongoContentStore: items and idempotency keys in the course's shard, preferences in the user's.

    Per-shard dicts are public so tests can assert where each document landed.
    """

    def __init__(self, shard_map: ShardMap):
        self.shard_map = shard_map
        self.items: dict[str, dict[str, ContentItem]] = {name: {} for name in shard_map.names}
        self.keys: dict[str, dict[str, tuple[bytes, str]]] = {name: {} for name in shard_map.names}
        self.preferences: dict[str, dict[int, Preferences]] = {name: {} for name in shard_map.names}
        self._object_ids = itertools.count(1)
        self._ticks = itertools.count(1)

    def _now(self) -> datetime:
        return START + timedelta(milliseconds=next(self._ticks))

    def create(self, shard: str, content: Content, region: str, request_id: str,
               request_fingerprint: bytes) -> ContentItem:
        if request_id in self.keys[shard]:
            fingerprint, object_id = self.keys[shard][request_id]
            if fingerprint != request_fingerprint:
                raise InvalidArgument("request_id", "was already used by a request with different parameters",
                                      reason="REQUEST_ID_REUSED")
            if object_id not in self.items[shard]:
                raise NotFound("content item", object_id)
            return self.items[shard][object_id]
        object_id = f"{next(self._object_ids):024x}"
        now = self._now()
        item = ContentItem(id=ids.document_id(self.shard_map.by_name(shard).number, object_id), region=region,
                           content=content, version=1, created_at=now, updated_at=now)
        self.items[shard][object_id] = item
        if request_id:
            self.keys[shard][request_id] = (request_fingerprint, object_id)
        return item

    def get(self, shard: str, object_id: str) -> ContentItem | None:
        return self.items[shard].get(object_id)

    def list(self, shard: str, course_id: int, lesson_id: int | None, kind: str | None,
             after: ListPosition | None, limit: int) -> list[ContentItem]:
        def key(item: ContentItem):
            return item.content.lesson_id, item.content.position, ids.decode_document_id(item.id)[1]

        start = (after.lesson_id, after.position, after.object_id) if after else None
        rows = sorted((i for i in self.items[shard].values() if i.content.course_id == course_id
                       and (lesson_id is None or i.content.lesson_id == lesson_id)
                       and (kind is None or i.content.kind == kind)
                       and (start is None or key(i) > start)), key=key)
        return rows[:limit]

    def replace(self, shard: str, current: ContentItem, content: Content) -> ContentItem | None:
        object_id = ids.decode_document_id(current.id)[1]
        stored = self.items[shard].get(object_id)
        if stored is None or stored.version != current.version:
            return None
        updated = dataclasses.replace(stored, content=content, version=stored.version + 1, updated_at=self._now())
        self.items[shard][object_id] = updated
        return updated

    def delete(self, shard: str, object_id: str, expected_version: int) -> bool:
        stored = self.items[shard].get(object_id)
        if stored is None or (expected_version and stored.version != expected_version):
            return False
        del self.items[shard][object_id]
        return True

    def get_preferences(self, shard: str, user_id: int) -> Preferences | None:
        return self.preferences[shard].get(user_id)

    def merge_preferences(self, shard: str, user_id: int, changes: dict, notification_changes: dict) -> Preferences:
        current = self.preferences[shard].get(user_id) or Preferences(user_id)
        notifications = dataclasses.replace(current.notifications, **notification_changes)
        merged = dataclasses.replace(current, **changes, notifications=notifications, version=current.version + 1,
                                     updated_at=self._now())
        self.preferences[shard][user_id] = merged
        return merged

    def save_preferences(self, shard: str, preferences: Preferences, expected_version: int) -> Preferences | None:
        stored = self.preferences[shard].get(preferences.user_id)
        if (stored.version if stored else 0) != expected_version:
            return None
        saved = dataclasses.replace(preferences, version=expected_version + 1, updated_at=self._now())
        self.preferences[shard][preferences.user_id] = saved
        return saved


class FakeUserDirectory:
    """Every user exists except those in `missing`."""

    def __init__(self):
        self.missing: set[int] = set()

    def exists(self, user_id: int) -> bool:
        return user_id not in self.missing


class FakeCourseDirectory:
    """Courses by ID; `calls` records every lookup, `error` (when set) is raised by every lookup."""

    def __init__(self):
        self.courses: dict[int, Course] = {}
        self.calls: list[int] = []
        self.error: Exception | None = None

    def add(self, course_id: int, region: str, lesson_ids=()) -> Course:
        self.courses[course_id] = Course(course_id, region, frozenset(lesson_ids))
        return self.courses[course_id]

    def find(self, course_id: int) -> Course | None:
        self.calls.append(course_id)
        if self.error is not None:
            raise self.error
        return self.courses.get(course_id)


def shard_id(shard_number: int, sequence: int = 1) -> int:
    """A well-formed 64-bit ID on shard `shard_number` (course, lesson or user)."""
    return ids.encode(ids.EPOCH_MS + 86_400_000, shard_number, sequence)


EU_COURSE = shard_id(2, 1)
APAC_COURSE = shard_id(3, 2)
LESSONS = (shard_id(2, 10), shard_id(2, 11))


def make(shard_map: ShardMap) -> tuple[ContentService, FakeContentStore, FakeCourseDirectory]:
    """The service over fakes, with an EU course (two lessons) and an APAC course."""
    store, courses = FakeContentStore(shard_map), FakeCourseDirectory()
    courses.add(EU_COURSE, "EUROPE", LESSONS)
    courses.add(APAC_COURSE, "ASIA")
    return ContentService(store, shard_map, courses, FakeUserDirectory()), store, courses


def video(**overrides) -> Video:
    fields = dict(duration_seconds=600, storage_url="https://uploads.example.com/v/1.mp4", transcript="Hello",
                  renditions=(Rendition("1080p", 5000, "https://cdn.example.com/v/1/1080.m3u8"),
                              Rendition("720p", 2500, "https://cdn.example.com/v/1/720.m3u8")))
    fields.update(overrides)
    return Video(**fields)


def document(**overrides) -> Document:
    fields = dict(mime_type="application/pdf", size_bytes=123_456, page_count=12,
                  url="https://files.example.com/d/1.pdf")
    fields.update(overrides)
    return Document(**fields)


def content(**overrides) -> Content:
    """A valid course-level VIDEO item of EU_COURSE; any field can be overridden."""
    fields = dict(course_id=EU_COURSE, lesson_id=0, kind="VIDEO", title="Welcome", description="",
                  tags=(), position=0, video=video(), document=None)
    fields.update(overrides)
    return Content(**fields)


def violations(err) -> list[str]:
    return [v.field for v in err.value.violations]
