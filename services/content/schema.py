"""The MongoDB collections of the content service: `$jsonSchema` validators and indexes, applied at start-up.

Real MongoDB enforces the validators (a second line of defence behind services/content/rules.py); the local
nx-27017 stand-in accepts and ignores them. Compound indexes leave out `_id`: nx-27017 cannot insert into a
collection that has one (its SQLite index on `_id` fails), and the final sort on `_id` is cheap on the few
documents that tie on course, lesson and position.
"""
from __future__ import annotations

from collections.abc import Callable

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import CollectionInvalid, OperationFailure

from services.content import rules
from services.content.domain import KINDS, NOTIFICATION_FIELDS, THEMES
from shared import validation

CONTENT = "content_items"
PREFERENCES = "user_preferences"
IDEMPOTENCY = "idempotency_keys"
NAMESPACE_EXISTS = 48

_INT = ["int", "long"]


def _number(minimum: int, maximum: int | None = None, kind=None) -> dict:
    schema = {"bsonType": kind or _INT, "minimum": minimum}
    return schema if maximum is None else {**schema, "maximum": maximum}


def _string(max_length: int, min_length: int = 0) -> dict:
    return {"bsonType": "string", "minLength": min_length, "maxLength": max_length}


_URL = {**_string(rules.MAX_URL, 1), "pattern": "^https?://[^/?#\\s]+"}
_VIDEO = {"bsonType": "object", "required": ["duration_seconds", "renditions", "storage_url", "transcript"],
          "properties": {
              "duration_seconds": _number(1, rules.MAX_DURATION_S),
              "renditions": {"bsonType": "array", "maxItems": rules.MAX_RENDITIONS, "items": {
                  "bsonType": "object", "required": ["resolution", "bitrate_kbps", "url"], "properties": {
                      "resolution": _string(rules.MAX_RESOLUTION, 1),
                      "bitrate_kbps": _number(1, rules.MAX_BITRATE_KBPS), "url": _URL}}},
              "storage_url": _URL, "transcript": _string(rules.MAX_TRANSCRIPT)}}
_DOCUMENT = {"bsonType": "object", "required": ["mime_type", "size_bytes", "page_count", "url"],
             "properties": {"mime_type": {"enum": sorted(rules.MIME_TYPES)},
                            "size_bytes": _number(1, rules.MAX_DOCUMENT_BYTES),
                            "page_count": _number(0, rules.MAX_PAGES), "url": _URL}}
CONTENT_SCHEMA = {"$jsonSchema": {
    "bsonType": "object",
    "required": ["course_id", "lesson_id", "region", "kind", "title", "description", "tags", "position",
                 "version", "created_at", "updated_at"],
    "properties": {
        "course_id": _number(1), "lesson_id": _number(0), "region": {"bsonType": "string"},
        "kind": {"enum": list(KINDS)}, "title": _string(rules.MAX_TITLE, 1),
        "description": _string(rules.MAX_DESCRIPTION),
        "tags": {"bsonType": "array", "maxItems": rules.MAX_TAGS, "uniqueItems": True,
                 "items": _string(rules.MAX_TAG, 1)},
        "position": _number(0), "version": _number(1), "created_at": {"bsonType": "date"},
        "updated_at": {"bsonType": "date"}, "video": _VIDEO, "document": _DOCUMENT},
    "oneOf": [{"properties": {"kind": {"enum": ["VIDEO"]}}, "required": ["video"], "not": {"required": ["document"]}},
              {"properties": {"kind": {"enum": ["DOCUMENT"]}}, "required": ["document"],
               "not": {"required": ["video"]}}]}}
PREFERENCES_SCHEMA = {"$jsonSchema": {
    "bsonType": "object",
    "required": ["language", "playback_speed", "captions_enabled", "caption_language", "notifications", "theme",
                 "version", "updated_at"],
    "properties": {
        "_id": _number(1), "language": _string(validation.MAX_LANGUAGE),
        "caption_language": _string(validation.MAX_LANGUAGE),
        "playback_speed": _number(rules.MIN_SPEED, rules.MAX_SPEED, kind=["double", "int"]),
        "captions_enabled": {"bsonType": "bool"}, "theme": {"enum": list(THEMES)},
        "notifications": {"bsonType": "object", "required": list(NOTIFICATION_FIELDS),
                          "properties": {name: {"bsonType": "bool"} for name in NOTIFICATION_FIELDS}},
        "version": _number(1), "updated_at": {"bsonType": "date"}}}}
IDEMPOTENCY_SCHEMA = {"$jsonSchema": {
    "bsonType": "object", "required": ["request_hash", "object_id", "item", "created_at"],
    "properties": {"_id": {"bsonType": "string"}, "request_hash": {"bsonType": "string"},
                   "object_id": {"bsonType": "objectId"}, "item": {"bsonType": "object"},
                   "completed": {"bsonType": "bool"}, "created_at": {"bsonType": "date"}}}}

VALIDATORS = {CONTENT: CONTENT_SCHEMA, PREFERENCES: PREFERENCES_SCHEMA, IDEMPOTENCY: IDEMPOTENCY_SCHEMA}
INDEXES = {CONTENT: [IndexModel([("course_id", ASCENDING), ("lesson_id", ASCENDING), ("position", ASCENDING)],
                                name="course_lesson_position")]}


def ensure(db: Database, warn: Callable[[str, Exception], None]) -> None:
    """Create the collections with their validators (or update the validators) and the indexes.

    A server that refuses an option is reported through `warn` and skipped: the service rules still hold.
    Connection errors propagate, for the caller to retry later.
    """
    options = {"validationLevel": "strict", "validationAction": "error"}
    for name, validator in VALIDATORS.items():
        try:
            try:
                db.create_collection(name, validator=validator, **options)
            except CollectionInvalid:
                db.command("collMod", name, validator=validator, **options)
            except OperationFailure as exc:
                if exc.code != NAMESPACE_EXISTS:
                    raise
                db.command("collMod", name, validator=validator, **options)
        except OperationFailure as exc:
            warn(f"the server refused the validator of {name}", exc)
    for name, indexes in INDEXES.items():
        try:
            db[name].create_indexes(indexes)
        except OperationFailure as exc:
            warn(f"the server refused the indexes of {name}", exc)
