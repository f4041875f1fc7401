"""MongoDB storage of content items (in the course's shard database) and preferences (in the user's).

An idempotent create first claims its request_id in `idempotency_keys` (the key is the `_id`, so the claim is
unique on any server) together with the full document it is about to insert, then inserts the item, then
marks the claim completed. A retry that finds an unfinished claim inserts that same document itself (same
`_id`, so at most one item ever exists), which makes a crash between the two writes harmless.
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.content import schema
from services.content.domain import (
    NOTIFICATION_FIELDS,
    Content,
    ContentItem,
    Document,
    ListPosition,
    Notifications,
    Preferences,
    Rendition,
    Video,
)
from shared import deadlines, ids
from shared.errors import InvalidArgument, NotFound, Unavailable
from shared.mongo import MongoShards

log = logging.getLogger(__name__)

CREATE_METHOD = "content.CreateContent"
DEFAULT_NOTIFICATIONS = Notifications()
ORDER = [("lesson_id", ASCENDING), ("position", ASCENDING), ("_id", ASCENDING)]


def _now() -> datetime:
    """Now, at the millisecond precision MongoDB stores, so a returned value equals the stored one."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _content_fields(content: Content) -> dict:
    """The document fields of `content`; the details branch as a sub-document."""
    fields = dataclasses.asdict(content)
    fields["tags"] = list(content.tags)
    for branch in ("video", "document"):
        if fields[branch] is None:
            del fields[branch]
    if content.video is not None:
        fields["video"]["renditions"] = [dataclasses.asdict(r) for r in content.video.renditions]
    return fields


def _content(doc: dict) -> Content:
    video = doc.get("video")
    document = doc.get("document")
    return Content(
        course_id=int(doc["course_id"]), lesson_id=int(doc["lesson_id"]), kind=doc["kind"], title=doc["title"],
        description=doc.get("description", ""), tags=tuple(doc.get("tags", ())), position=int(doc["position"]),
        video=Video(int(video["duration_seconds"]),
                    tuple(Rendition(r["resolution"], int(r["bitrate_kbps"]), r["url"]) for r in video["renditions"]),
                    video["storage_url"], video.get("transcript", "")) if video else None,
        document=Document(document["mime_type"], int(document["size_bytes"]), int(document["page_count"]),
                          document["url"]) if document else None)


def _preferences(doc: dict) -> Preferences:
    notes = doc.get("notifications") or {}
    return Preferences(
        user_id=int(doc["_id"]), language=doc.get("language", ""), playback_speed=float(doc["playback_speed"]),
        captions_enabled=bool(doc.get("captions_enabled")), caption_language=doc.get("caption_language", ""),
        notifications=Notifications(**{k: bool(notes.get(k, getattr(DEFAULT_NOTIFICATIONS, k)))
                                       for k in NOTIFICATION_FIELDS}),
        theme=doc.get("theme", "SYSTEM"), version=int(doc["version"]), updated_at=doc.get("updated_at"))


def _preference_document(preferences: Preferences) -> dict:
    doc = dataclasses.asdict(preferences)
    doc["_id"] = doc.pop("user_id")
    return doc


class MongoContentStore:
    def __init__(self, mongo: MongoShards):
        self.mongo = mongo
        self._ready: set[str] = set()
        self._warned = False

    # ---- schema -------------------------------------------------------------------------------
    def prepare(self, time_limit_s: float) -> None:
        """Validators and indexes on every shard's database, within `time_limit_s` in all, so a MongoDB that is
        down does not hold up start-up; a shard not prepared now is prepared on first use."""
        with deadlines.within(time_limit_s):
            for shard in self.mongo.shard_map.names:
                try:
                    self._ensure(shard)
                except Unavailable as exc:
                    log.warning("content schema not applied yet; will retry on first use",
                                extra={"shard": shard, "error": exc.message})

    def _ensure(self, shard: str) -> None:
        if shard in self._ready:
            return
        # No lock: ensuring twice is harmless, and a lock would queue every caller behind a dead server.
        with self.mongo.operation(shard) as db:
            schema.ensure(db, self._warn_once)
        self._ready.add(shard)

    def _warn_once(self, what: str, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            log.warning(f"{what}; continuing without it (the service enforces the same rules)",
                        extra={"error": str(exc)})

    def _db(self, shard: str):
        self._ensure(shard)
        return self.mongo.operation(shard)

    def _item(self, shard: str, doc: dict) -> ContentItem:
        number = self.mongo.shard_map.by_name(shard).number
        return ContentItem(id=ids.document_id(number, str(doc["_id"])), region=doc.get("region", ""),
                           content=_content(doc), version=int(doc["version"]), created_at=doc["created_at"],
                           updated_at=doc["updated_at"])

    # ---- content ------------------------------------------------------------------------------
    def create(self, shard: str, content: Content, region: str, request_id: str,
               request_fingerprint: bytes) -> ContentItem:
        now = _now()
        doc = {"_id": ObjectId(), **_content_fields(content), "region": region, "version": 1, "created_at": now,
               "updated_at": now}
        with self._db(shard) as db:
            if not request_id:
                db[schema.CONTENT].insert_one(doc)
                return self._item(shard, doc)
            key = {"_id": f"{CREATE_METHOD}:{request_id}", "request_hash": request_fingerprint.hex(),
                   "object_id": doc["_id"], "item": doc, "completed": False, "created_at": now}
            try:
                db[schema.IDEMPOTENCY].insert_one(key)
            except DuplicateKeyError:
                key = db[schema.IDEMPOTENCY].find_one({"_id": key["_id"]})
                if key["request_hash"] != request_fingerprint.hex():
                    raise InvalidArgument("request_id", "was already used by a request with different parameters",
                                          reason="REQUEST_ID_REUSED") from None
                existing = db[schema.CONTENT].find_one({"_id": key["object_id"]})
                if existing is not None:
                    return self._item(shard, existing)
                if key.get("completed"):
                    raise NotFound("content item", ids.document_id(  # created, then deleted
                        self.mongo.shard_map.by_name(shard).number, str(key["object_id"]))) from None
                doc = key["item"]  # the first attempt stopped between its writes: finish it
            try:
                db[schema.CONTENT].insert_one(doc)
            except DuplicateKeyError:
                doc = db[schema.CONTENT].find_one({"_id": doc["_id"]}) or doc
            db[schema.IDEMPOTENCY].update_one({"_id": key["_id"]}, {"$set": {"completed": True}})
            return self._item(shard, doc)

    def get(self, shard: str, object_id: str) -> ContentItem | None:
        with self._db(shard) as db:
            doc = db[schema.CONTENT].find_one({"_id": ObjectId(object_id)})
        return self._item(shard, doc) if doc else None

    def list(self, shard: str, course_id: int, lesson_id: int | None, kind: str | None,
             after: ListPosition | None, limit: int) -> list[ContentItem]:
        query: dict = {"course_id": course_id}
        if lesson_id is not None:
            query["lesson_id"] = lesson_id
        if kind:
            query["kind"] = kind
        if after is not None:
            oid = ObjectId(after.object_id)
            query["$or"] = [{"lesson_id": {"$gt": after.lesson_id}},
                            {"lesson_id": after.lesson_id, "position": {"$gt": after.position}},
                            {"lesson_id": after.lesson_id, "position": after.position, "_id": {"$gt": oid}}]
        with self._db(shard) as db:
            docs = list(db[schema.CONTENT].find(query).sort(ORDER).limit(limit))
        return [self._item(shard, d) for d in docs]

    def replace(self, shard: str, current: ContentItem, content: Content) -> ContentItem | None:
        # A whole-document replacement that names `_id`: nx-27017 turns datetimes set by $set into strings,
        # and the `_id` of a replacement without one into a string.
        _, object_id = ids.decode_document_id(current.id)
        doc = {"_id": ObjectId(object_id), **_content_fields(content), "region": current.region,
               "version": current.version + 1, "created_at": current.created_at, "updated_at": _now()}
        with self._db(shard) as db:
            replaced = db[schema.CONTENT].find_one_and_replace(
                {"_id": doc["_id"], "version": current.version}, doc, return_document=ReturnDocument.AFTER)
        return self._item(shard, doc) if replaced else None

    def delete(self, shard: str, object_id: str, expected_version: int) -> bool:
        query: dict = {"_id": ObjectId(object_id)}
        if expected_version:
            query["version"] = expected_version
        with self._db(shard) as db:
            return db[schema.CONTENT].delete_one(query).deleted_count == 1

    # ---- preferences --------------------------------------------------------------------------
    def get_preferences(self, shard: str, user_id: int) -> Preferences | None:
        with self._db(shard) as db:
            doc = db[schema.PREFERENCES].find_one({"_id": user_id})
        return _preferences(doc) if doc else None

    def merge_preferences(self, shard: str, user_id: int, changes: dict, notification_changes: dict) -> Preferences:
        changed = {**changes, **{f"notifications.{k}": v for k, v in notification_changes.items()}}
        # $currentDate, not a datetime in $set: the local stand-in stores a $set datetime as text.
        update = {"$set": changed, "$currentDate": {"updated_at": True}, "$inc": {"version": 1}}
        with self._db(shard) as db:
            collection = db[schema.PREFERENCES]
            doc = collection.find_one_and_update({"_id": user_id}, update, return_document=ReturnDocument.AFTER)
            if doc is not None:
                return _preferences(doc)
            notifications = dataclasses.replace(DEFAULT_NOTIFICATIONS, **notification_changes)
            first = dataclasses.replace(Preferences(user_id), **changes, notifications=notifications, version=1,
                                        updated_at=_now())
            try:  # none stored yet: the defaults with these changes, unless another first write wins the insert
                collection.insert_one(_preference_document(first))
                return first
            except DuplicateKeyError:
                doc = collection.find_one_and_update({"_id": user_id}, update, return_document=ReturnDocument.AFTER)
        return _preferences(doc)

    def save_preferences(self, shard: str, preferences: Preferences, expected_version: int) -> Preferences | None:
        doc = _preference_document(dataclasses.replace(preferences, version=expected_version + 1, updated_at=_now()))
        with self._db(shard) as db:
            if expected_version == 0:
                try:
                    db[schema.PREFERENCES].insert_one(doc)
                except DuplicateKeyError:
                    return None
            elif db[schema.PREFERENCES].find_one_and_replace(
                    {"_id": doc["_id"], "version": expected_version}, doc) is None:
                return None
        return _preferences(doc)
