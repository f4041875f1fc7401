"""Hypothesis strategies for hostile calls: a plausible request for any method, with some fields replaced by
hostile values, or raw bytes that do not parse, and hostile metadata. Built from the descriptors alone."""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

from google.protobuf import descriptor, field_mask_pb2, message_factory, timestamp_pb2
from hypothesis import strategies as st

F = descriptor.FieldDescriptor
INT64 = (-2**63, 2**63 - 1)
INT32 = (-2**31, 2**31 - 1)
# What an error may never show a caller: SQL, PL/pgSQL, relations, PIDs, stack traces, file paths, addresses.
INTERNAL_TEXT = re.compile(
    r"SELECT |INSERT |UPDATE \w+ SET|DELETE FROM|PL/pgSQL|relation \"|Process \d+ waits|on transaction \d+|"
    r"Traceback|File \"|/[\w.-]+/[\w./-]*\.py|psycopg|pymongo|violates [\w -]+ constraint|_fkey|_pkey|"
    r"_check\b|CONTEXT:|DETAIL:|SQL statement|Exception deserializing|Exception calling application|"
    r"\b\d{1,3}(?:\.\d{1,3}){3}:\d{2,5}\b|ipv[46]:|Connection refused")
HOSTILE_TEXT = ["\x00", "a\x00b", "", " ", "\t\n", "x" * 5000, "١٢٣.٤٥", "𝟙𝟚.𝟛", "１２", "½", "²",
                "'; DROP TABLE users; --", "%s%s%n", "{\"$gt\": \"\"}", "$where", "a.b$c", "\u202eevil",
                "../../etc/passwd", "Europe/Nowhere", "9" * 400, "-1", "1e309", "NaN", "Infinity",
                "zz-ZZ-1234567890", "\ufeff", "🙂" * 50]
HOSTILE_METADATA = [
    ("x-min-lsn", "mars:0/1"), ("x-min-lsn", "na:FFFFFFFF/FFFFFFFF"), ("x-min-lsn", "na:0/0,zz:0/1"),
    ("x-min-lsn", "na:zz"), ("x-min-lsn", "," * 2000), ("x-consistency", "bounded"),
    ("x-consistency", "eventual"), ("x-max-staleness-ms", "99999999999999999999"),
    ("x-max-staleness-ms", "-1"), ("x-region", "MARS"), ("x-region", " europe "), ("x-region", ""),
    ("x-request-id", "' OR 1=1 --"), ("x-request-id", "r" * 4000)]
TEXT_VALUES = {"email": None, "slug": None, "request_id": None, "language": "en", "caption_language": "en",
               "time_zone": "UTC", "currency_code": "EUR", "amount": "19.99", "card_brand": "visa",
               "last4": "4242", "country_code": "FR", "token": "tok_visa_ok", "mime_type": "application/pdf",
               "resolution": "720p", "page_token": "", "password": "", "id": ""}
OUTPUT_ONLY = {"create_time", "update_time", "publish_time", "has_password", "average_rating", "review_count",
               "enrollment_count", "duration_minutes", "state", "version", "position"}
INT_VALUES = {"exp_month": 12, "exp_year": 2099, "rating": 4, "duration_seconds": 90, "page_size": 10,
              "watched_seconds": 10, "position_seconds": 5, "version": 0, "expected_version": 0,
              "bitrate_kbps": 2500, "size_bytes": 4096, "page_count": 3, "position": 1}


@dataclass
class World:
    """Real rows the plausible requests name, by field name (`id` by the method's resource)."""

    ids: dict[str, int]
    content_id: str

    def int_for(self, method: str, name: str) -> int:
        if name == "id":
            resource = re.sub(r"^(Get|Update|Delete|Publish|Cancel)", "", method).lower()
            if method.startswith("Delete"):
                return self.ids["missing"]  # deleting the world would starve every later example
            return self.ids.get(resource, self.ids["missing"])
        return self.ids.get(name.removesuffix("_id"), INT_VALUES.get(name, 1))


def plausible(message_class, method: str, world: World, depth: int = 0):
    """A request of `message_class` whose fields all hold believable values (a valid-looking call)."""
    message = message_class()
    for field in message.DESCRIPTOR.fields:
        if field.name in OUTPUT_ONLY or (depth and field.name in ("id", "course_id", "module_id")
                                          and not method.startswith("Update")):
            continue
        value = _plausible_value(field, method, world, depth)
        if value is None:
            continue
        if field.is_repeated and field.type == F.TYPE_MESSAGE:
            getattr(message, field.name).add().CopyFrom(value)
        elif field.is_repeated:
            getattr(message, field.name).append(value)
        elif field.type == F.TYPE_MESSAGE:
            getattr(message, field.name).CopyFrom(value)
        else:
            setattr(message, field.name, value)
    return message


def _plausible_value(field: F, method: str, world: World, depth: int):
    if field.type == F.TYPE_MESSAGE:
        name = field.message_type.full_name
        if name == "google.protobuf.Timestamp":
            return timestamp_pb2.Timestamp(seconds=int(time.time()) - (86400 if field.name == "start_time" else 0))
        if name == "google.protobuf.FieldMask":
            return None
        if depth > 3 or field.containing_oneof is not None and field.name != "video":
            return None
        return plausible(message_factory.GetMessageClass(field.message_type), method, world, depth + 1)
    if field.type == F.TYPE_STRING:
        if field.name == "id" and "Content" in method:
            return world.content_id
        if field.name in TEXT_VALUES:
            value = TEXT_VALUES[field.name]
            tag = uuid.uuid4().hex[:12]
            return value if value is not None else {"email": f"fuzz-{tag}@example.com", "slug": f"fuzz-{tag}"}.get(
                field.name, str(uuid.uuid4()))
        return "https://example.com/x" if field.name.endswith("url") else "Fuzz text"
    if field.type == F.TYPE_ENUM:
        return field.enum_type.values[1].number if len(field.enum_type.values) > 1 else 0
    if field.type in (F.TYPE_INT64, F.TYPE_INT32):
        return world.int_for(method, field.name) if field.type == F.TYPE_INT64 else INT_VALUES.get(field.name, 1)
    if field.type == F.TYPE_DOUBLE:
        return 1.0
    if field.type == F.TYPE_BOOL:
        return False
    return None


def leaves(message_descriptor: descriptor.Descriptor, prefix: tuple = (), depth: int = 0) -> list[tuple[F, ...]]:
    """Every scalar (or Timestamp, FieldMask) field path of a request type, inside nested messages too."""
    out = []
    for field in message_descriptor.fields:
        nested = field.type == F.TYPE_MESSAGE and not field.message_type.full_name.startswith("google.protobuf.")
        if not nested:
            out.append((*prefix, field))
        elif not field.is_repeated and depth < 3:
            out.extend(leaves(field.message_type, (*prefix, field), depth + 1))
    return out


def hostile_value(field: F, resource: descriptor.Descriptor | None) -> st.SearchStrategy:
    """A strategy of hostile values for one field, by its type."""
    if field.type == F.TYPE_STRING:
        one = st.sampled_from(HOSTILE_TEXT) | st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
        return st.lists(one, max_size=4) if field.is_repeated else one
    if field.type == F.TYPE_BYTES:
        return st.binary(max_size=64)
    if field.type in (F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_SFIXED64):
        return st.sampled_from([0, -1, INT64[0], INT64[1], 2**53 + 1]) | st.integers(*INT64)
    if field.type in (F.TYPE_INT32, F.TYPE_SINT32):
        return st.sampled_from([0, -1, INT32[0], INT32[1]]) | st.integers(*INT32)
    if field.type == F.TYPE_ENUM:
        return st.integers(-3, 40)
    if field.type == F.TYPE_DOUBLE:
        return st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -1.0, 0.0])
    if field.type == F.TYPE_BOOL:
        return st.booleans()
    name = field.message_type.full_name
    if name == "google.protobuf.Timestamp":
        return st.builds(timestamp_pb2.Timestamp, seconds=st.integers(*INT64), nanos=st.integers(*INT32))
    if name == "google.protobuf.FieldMask":
        names = [f.name for f in resource.fields] if resource else ["id"]
        path = st.sampled_from(names + ["", "*", "a.b.c", "id", "create_time", "profile.bio"]) | st.sampled_from(
            HOSTILE_TEXT)
        return st.builds(field_mask_pb2.FieldMask, paths=st.lists(path, max_size=4))
    return st.just(None)  # a whole message: its leaves get hostile values of their own


def _set(message, path: tuple[F, ...], value) -> None:
    *parents, last = path
    for field in parents:
        message = getattr(message, field.name)
    if value is None:
        return
    if last.is_repeated:
        if last.type != F.TYPE_MESSAGE:
            del getattr(message, last.name)[:]
            getattr(message, last.name).extend(value)
    elif last.type == F.TYPE_MESSAGE:
        getattr(message, last.name).CopyFrom(value)
    else:
        setattr(message, last.name, value)


def _get(message, path: tuple[F, ...]):
    for field in path:
        message = getattr(message, field.name)
    return message


def _string_field_number(message_descriptor: descriptor.Descriptor) -> int:
    return next((f.number for f in message_descriptor.fields if f.type == F.TYPE_STRING), 15)


@st.composite
def hostile_request(draw, method: str, request: descriptor.Descriptor, world: World) -> bytes:
    """The serialized bytes of a hostile call to `method`."""
    if not request.fields:  # a request without fields (GetJwks) can only be attacked with raw bytes
        return draw(st.binary(max_size=120))
    cls = message_factory.GetMessageClass(request)
    base = plausible(cls, method.rsplit("/", 1)[-1], world)
    kind = draw(st.sampled_from(["fields", "nul", "fields", "raw", "nul", "truncated", "fields", "bad_utf8"]))
    if kind == "raw":
        return draw(st.binary(max_size=120))
    if kind == "truncated":
        data = base.SerializeToString()
        return data[:draw(st.integers(0, max(len(data) - 1, 0)))] if data else b"\x0a\x05ab"
    if kind == "bad_utf8":  # a string field whose bytes are not UTF-8, appended to a valid request
        number = _string_field_number(request)
        return base.SerializeToString() + bytes([number << 3 | 2, 3]) + b"\xff\xfe\x00"
    paths = leaves(request)
    if kind == "nul":  # one believable text with a NUL inside: it passes the field's rules, then meets the store
        texts = [p for p in paths if p[-1].type == F.TYPE_STRING and not p[-1].is_repeated] or paths
        path = draw(st.sampled_from(texts))
        if path[-1].type == F.TYPE_STRING:
            _set(base, path, _get(base, path)[:-1] + "\x00" + _get(base, path)[-1:])
        return base.SerializeToString()
    resource = next((f.message_type for f in request.fields if f.type == F.TYPE_MESSAGE and
                     not f.message_type.full_name.startswith("google.")), None)
    for path in draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique_by=lambda p: p)):
        try:
            _set(base, path, draw(hostile_value(path[-1], resource)))
        except (ValueError, TypeError):
            pass  # a value the client library itself refuses never reaches a server
    return base.SerializeToString()


def hostile_metadata() -> st.SearchStrategy:
    """Mostly none (so the request itself is tested), else one or two hostile entries."""
    some = st.lists(st.sampled_from(HOSTILE_METADATA), min_size=1, max_size=2, unique_by=lambda kv: kv[0])
    return st.sampled_from([(), (), ()]) | some
