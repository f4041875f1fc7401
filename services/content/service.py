"""The rules of the content service: validation, placement on the course's or user's shard, idempotency,
optimistic concurrency and the course check. No gRPC, no MongoDB."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Protocol

from services.content import rules
from services.content.domain import (
    NOTIFICATION_FIELDS,
    Content,
    ContentItem,
    Course,
    Document,
    ListPosition,
    Preferences,
    Video,
)
from shared import field_masks, idempotency, ids, pagination
from shared.auth import caller
from shared.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, Violations
from shared.sharding import ShardMap

UPDATABLE = ("lesson_id", "title", "description", "tags", "position", "video", "document")
BRANCHES = {"video": ("VIDEO", Video), "document": ("DOCUMENT", Document)}
PREFERENCE_PATHS = ("language", "playback_speed", "captions_enabled", "caption_language", "notifications", "theme")
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


class ContentStore(Protocol):
    """Storage of content and preferences; `MongoContentStore` is the real one, tests use a fake.

    `object_id` is the ObjectId hex of a document on `shard`; returned items carry their public ID.
    """

    def create(self, shard: str, content: Content, region: str, request_id: str,
               request_fingerprint: bytes) -> ContentItem: ...

    def get(self, shard: str, object_id: str) -> ContentItem | None: ...

    def list(self, shard: str, course_id: int, lesson_id: int | None, kind: str | None,
             after: ListPosition | None, limit: int) -> list[ContentItem]: ...

    def replace(self, shard: str, current: ContentItem, content: Content) -> ContentItem | None:
        """`current` with `content` at the next version, or None when the stored item is no longer at
        `current.version` (or is gone)."""

    def delete(self, shard: str, object_id: str, expected_version: int) -> bool:
        """Whether an item was deleted; `expected_version` 0 means any version."""

    def get_preferences(self, shard: str, user_id: int) -> Preferences | None: ...

    def save_preferences(self, shard: str, preferences: Preferences, expected_version: int) -> Preferences | None:
        """The stored preferences at version `expected_version + 1`, or None when the stored version is not
        `expected_version` (0: none stored yet)."""

    def merge_preferences(self, shard: str, user_id: int, changes: dict, notification_changes: dict) -> Preferences:
        """The stored preferences (the defaults when none are) with these fields changed and the version
        bumped, in one atomic write: concurrent merges never conflict, each keeps the others' fields."""


class UserDirectory(Protocol):
    """Where the content service learns whether a user exists (the users service)."""

    def exists(self, user_id: int) -> bool: ...


class CourseDirectory(Protocol):
    """Where the content service learns whether a course exists (the courses service)."""

    def find(self, course_id: int) -> Course | None: ...


def stale(what: str, key: object, sent: int, current: int | None = None) -> Aborted:
    now = f" (current version {current})" if current is not None else ""
    return Aborted(f"{what} {key} is not at version {sent}{now}: re-read it and retry", reason="STALE_VERSION",
                   metadata={"sent_version": str(sent),
                             **({"current_version": str(current)} if current is not None else {})})


class ContentService:
    def __init__(self, store: ContentStore, shard_map: ShardMap, courses: CourseDirectory, users: UserDirectory):
        self.store = store
        self.shards = shard_map
        self.courses = courses
        self.users = users

    # ---- content ------------------------------------------------------------------------------
    def create_content(self, content: Content, request_id: str) -> ContentItem:
        violations = Violations()
        clean = rules.check_content(content, violations)
        shard = self._course_shard(content.course_id, violations, "content_item.course_id")
        violations.raise_if_any()
        idempotency.check_request_id(request_id)
        course = self._course(clean.course_id, clean.lesson_id, owned=True)
        fingerprint = idempotency.fingerprint(dataclasses.asdict(clean))
        return self.store.create(shard, clean, course.region, request_id, fingerprint)

    def get_content(self, content_id: str) -> ContentItem:
        shard, object_id = self.shards.for_document_id(content_id)
        item = self.store.get(shard.name, object_id)
        if item is None:
            raise NotFound("content item", content_id)
        return item

    def list_content(self, course_id: int, lesson_id: int | None, kind: str | None, page_size: int,
                     page_token: str) -> tuple[list[ContentItem], str]:
        violations = Violations()
        shard = self._course_shard(course_id, violations, "course_id")
        if lesson_id is not None and lesson_id < 0:
            violations.add("lesson_id", "must be 0 (course-level items) or a lesson ID")
        violations.raise_if_any()
        limit = pagination.page_size(page_size)
        query = {"method": "ListContent", "course_id": course_id, "lesson_id": lesson_id, "kind": kind}
        after = _list_position(pagination.decode_token(page_token, query))
        items = self.store.list(shard, course_id, lesson_id, kind, after, limit + 1)
        if len(items) <= limit:
            return items, ""
        last = items[limit - 1]
        position = {"l": last.content.lesson_id, "p": last.content.position,
                    "o": ids.decode_document_id(last.id)[1]}
        return items[:limit], pagination.encode_token(position, query)

    def update_content(self, content_id: str, version: int, paths: Iterable[str], sent: Content) -> ContentItem:
        shard, object_id = self.shards.for_document_id(content_id, field="content_item.id")
        mask = field_masks.resolve(paths, UPDATABLE, messages=tuple(BRANCHES))
        if version <= 0:
            raise InvalidArgument("content_item.version", "is required: send the version you read")
        current = self.store.get(shard.name, object_id)
        if current is None:
            raise NotFound("content item", content_id)
        self._own(current)
        if version != current.version:
            raise stale("content item", content_id, version, current.version)
        violations = Violations()
        clean = rules.check_content(_apply(current.content, mask, sent), violations)
        violations.raise_if_any()
        if clean.lesson_id and clean.lesson_id != current.content.lesson_id:
            self._course(clean.course_id, clean.lesson_id)
        updated = self.store.replace(shard.name, current, clean)
        if updated is None:
            raise stale("content item", content_id, version)
        return updated

    def delete_content(self, content_id: str, expected_version: int) -> None:
        shard, object_id = self.shards.for_document_id(content_id)
        if expected_version < 0:
            raise InvalidArgument("expected_version", "must not be negative (0 deletes any version)")
        if caller.bound_user() is not None:
            found = self.store.get(shard.name, object_id)
            if found is None:
                raise NotFound("content item", content_id)
            self._own(found)
        if self.store.delete(shard.name, object_id, expected_version):
            return
        current = self.store.get(shard.name, object_id) if expected_version else None
        if current is not None:
            raise stale("content item", content_id, expected_version, current.version)
        raise NotFound("content item", content_id)

    def _course_shard(self, course_id: int, violations: Violations, field: str) -> str:
        if course_id == 0:
            violations.add(field, "is required")
            return ""
        try:
            return self.shards.for_id(course_id, field=field).name
        except InvalidArgument as exc:
            violations.items.extend(exc.violations)
            return ""

    def _own(self, item: ContentItem) -> None:
        """Only the instructor of the item's course (or an admin) changes it; to anyone else it does not exist."""
        owner = caller.bound_user()
        if owner is not None:
            course = self.courses.find(item.content.course_id)
            if course is None or course.instructor_id != owner:
                raise NotFound("content item", item.id)

    def _course(self, course_id: int, lesson_id: int, owned: bool = False) -> Course:
        """The course of new content; with `owned`, someone else's course reads as missing to an instructor."""
        course = self.courses.find(course_id)
        owner = caller.bound_user()
        if course is None or (owned and owner is not None and course.instructor_id != owner):
            raise FailedPrecondition(f"course {course_id} does not exist", reason="COURSE_NOT_FOUND",
                                     metadata={"course_id": str(course_id)})
        if lesson_id and lesson_id not in course.lesson_ids:
            raise FailedPrecondition(f"lesson {lesson_id} is not a lesson of course {course_id}",
                                     reason="LESSON_NOT_IN_COURSE",
                                     metadata={"course_id": str(course_id), "lesson_id": str(lesson_id)})
        return course

    # ---- preferences --------------------------------------------------------------------------
    def get_preferences(self, user_id: int) -> Preferences:
        shard = self.shards.for_id(user_id, field="user_id").name
        return self.store.get_preferences(shard, user_id) or Preferences(user_id)

    def update_preferences(self, user_id: int, version: int, paths: Iterable[str], sent: Preferences) -> Preferences:
        shard = self.shards.for_id(user_id, field="preferences.user_id").name
        mask = field_masks.resolve(paths, PREFERENCE_PATHS, messages=("notifications",))
        if version < 0:
            raise InvalidArgument("preferences.version", "must not be negative (0 skips the version check)")
        changes, notification_changes = _preference_changes(mask, sent)
        if not self.users.exists(user_id):
            raise NotFound("user", user_id)
        if not version:  # no check asked for: one atomic merge, which a concurrent writer cannot make stale
            return self.store.merge_preferences(shard, user_id, changes, notification_changes)
        current = self.store.get_preferences(shard, user_id) or Preferences(user_id)
        if version != current.version:
            raise stale("preferences of user", user_id, version, current.version)
        notifications = dataclasses.replace(current.notifications, **notification_changes)
        wanted = dataclasses.replace(current, **changes, notifications=notifications)
        saved = self.store.save_preferences(shard, wanted, current.version)
        if saved is None:
            raise stale("preferences of user", user_id, version)
        return saved


def _apply(current: Content, mask: set[str], sent: Content) -> Content:
    """`current` with the masked fields taken from `sent`; the details branch must match the item's kind."""
    changes = {name: getattr(sent, name) for name in UPDATABLE if name in mask and name not in BRANCHES}
    for branch, (kind, cls) in BRANCHES.items():
        subs = {p.split(".", 1)[1] for p in mask if p.startswith(branch + ".")}
        if branch not in mask and not subs:
            continue
        if current.kind != kind:
            raise InvalidArgument("update_mask", f"{branch} does not apply to a {current.kind} item")
        unknown = subs - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise InvalidArgument("update_mask", "unknown field(s) " + ", ".join(
                f"{branch}.{name}" for name in sorted(unknown)))
        if branch in mask:
            changes[branch] = getattr(sent, branch)
        else:
            given = getattr(sent, branch) or cls()
            changes[branch] = dataclasses.replace(getattr(current, branch) or cls(),
                                                  **{name: getattr(given, name) for name in subs})
    return dataclasses.replace(current, **changes)


def _preference_changes(mask: set[str], sent: Preferences) -> tuple[dict, dict]:
    """The validated top-level and notification changes that `mask` asks for."""
    violations = Violations()
    subs = {p.split(".", 1)[1] for p in mask if p.startswith("notifications.")}
    for name in sorted(subs - set(NOTIFICATION_FIELDS)):
        violations.add("update_mask", f"unknown field notifications.{name}")
    if "notifications" in mask:
        subs = set(NOTIFICATION_FIELDS)
    checks = {"language": rules.check_language, "caption_language": rules.check_language,
              "playback_speed": rules.check_playback_speed, "theme": rules.check_theme}
    changes = {}
    for name in ("language", "playback_speed", "captions_enabled", "caption_language", "theme"):
        if name in mask:
            value = getattr(sent, name)
            changes[name] = checks[name](value, violations, f"preferences.{name}") if name in checks else value
    violations.raise_if_any()
    return changes, {name: getattr(sent.notifications, name) for name in subs & set(NOTIFICATION_FIELDS)}


def _list_position(token: dict | None) -> ListPosition | None:
    if token is None:
        return None
    lesson, position, object_id = token.get("l"), token.get("p"), token.get("o")
    if not (isinstance(lesson, int) and isinstance(position, int) and isinstance(object_id, str)
            and _OBJECT_ID.fullmatch(object_id)):
        raise InvalidArgument("page_token", "is not a token returned by this method")
    return ListPosition(lesson, position, object_id)
