"""The field rules every service shares (text, NUL, length, ASCII digits, time zone, language); each names its field."""
from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import UTC, datetime

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from shared.errors import InvalidArgument, Violations

NUL = "\x00"
NO_NUL = "must not contain NUL characters (U+0000)"
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
MAX_LANGUAGE = 35
MAX_TIME_ZONE = 64
MIN_SECONDS, MAX_SECONDS = -62_135_596_800, 253_402_300_799  # protobuf's Timestamp range
_ASCII_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


@functools.cache
def _holds_text(message_type: Descriptor) -> bool:
    """Whether a message of this type can hold text anywhere: a batch's items are often all numbers, and then
    need no visit (a recursive type is taken to hold text)."""
    return _text_in(message_type, set())


def _text_in(message_type: Descriptor, visiting: set[str]) -> bool:
    if message_type.full_name in visiting:
        return True
    visiting.add(message_type.full_name)
    try:
        return any(field.type == FieldDescriptor.TYPE_STRING or (
            field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type is not None
            and _text_in(field.message_type, visiting)) for field in message_type.fields)
    finally:
        visiting.discard(message_type.full_name)


def _nul_path(message: Message, prefix: str) -> str | None:
    """The path of the first text in `message` (nested messages, lists and maps included) holding a NUL."""
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.type == FieldDescriptor.TYPE_STRING:
            values = value if field.is_repeated else (value,)
            for n, text in enumerate(values):
                if NUL in text:
                    return f"{path}[{n}]" if field.is_repeated else path
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                for key in value:
                    item = value[key]
                    if isinstance(key, str) and NUL in key:
                        return f"{path}[{key!r}]"
                    found = _nul_path(item, f"{path}[{key!r}].") if isinstance(item, Message) else (
                        f"{path}[{key!r}]" if isinstance(item, str) and NUL in item else None)
                    if found:
                        return found
                continue
            if field.message_type is not None and not _holds_text(field.message_type):
                continue
            for n, inner in enumerate(value if field.is_repeated else (value,)):
                found = _nul_path(inner, f"{path}[{n}]." if field.is_repeated else f"{path}.")
                if found:
                    return found
    return None


def no_nul_anywhere(message: Message) -> None:
    """InvalidArgument naming the first text field of a request that holds a NUL: no store can keep one
    (PostgreSQL refuses it in text), and no field of this API means one."""
    path = _nul_path(message, "")
    if path:
        raise InvalidArgument(path, NO_NUL)


def text(value: str, field: str, violations: Violations, *, required: bool = True, limit: int = 200) -> str:
    """Trimmed text: not blank when `required`, at most `limit` characters, no NUL."""
    cleaned = value.strip()
    if NUL in cleaned:
        violations.add(field, NO_NUL)
    elif required and not cleaned:
        violations.add(field, "must not be blank")
    elif len(cleaned) > limit:
        violations.add(field, f"must be at most {limit} characters (got {len(cleaned)})")
    return cleaned


def ascii_decimal(value: str, field: str, violations: Violations) -> bool:
    """Whether `value` is a decimal number written in ASCII digits (Python's Decimal also reads ١٢٣ or １２)."""
    if not _ASCII_DECIMAL.fullmatch(value.strip()):
        violations.add(field, f"{value[:40]!r} is not a decimal number in ASCII digits, such as 19.99"
                       if value else "is required")
        return False
    return True


def language(value: str, field: str, violations: Violations, *, required: bool = False) -> str:
    """Empty (unless `required`), or a BCP 47 language tag such as en or pt-BR."""
    tag = value.strip()
    if not tag:
        if required:
            violations.add(field, "is required: a BCP 47 language tag such as en or pt-BR")
        return tag
    if len(tag) > MAX_LANGUAGE or not _LANGUAGE.fullmatch(tag):
        violations.add(field, f"{tag[:40]!r} is not a BCP 47 language tag (for example en or pt-BR)")
    return tag


def timestamp(value: Timestamp, field: str, violations: Violations) -> datetime | None:
    """A Timestamp as an aware datetime; None and a violation outside protobuf's range (years 1 to 9999, nanos
    0 to 999,999,999), which Python's datetime cannot hold either."""
    if not (MIN_SECONDS <= value.seconds <= MAX_SECONDS and 0 <= value.nanos <= 999_999_999):
        violations.add(field, "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z")
        return None
    return value.ToDatetime(tzinfo=UTC)


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone(value: str, field: str, violations: Violations) -> str:
    """Empty, or an IANA time zone name such as Europe/Paris or UTC."""
    name = value.strip()
    if name and (len(name) > MAX_TIME_ZONE or name not in _time_zones()):
        violations.add(field, f"{name[:40]!r} is not an IANA time zone name (for example Europe/Paris or UTC)")
    return name
