"""Conversions between protobuf values and domain values that every API layer needs.

An enum value's domain (and stored) text is its proto name without the enum's prefix (`REGION_EUROPE` is
stored as `EUROPE`, `USER_ROLE_STUDENT` as `STUDENT`): the protos follow buf's ENUM_VALUE_PREFIX, the rows keep
the text they were written with. The zero value keeps its full name (`REGION_UNSPECIFIED`), never stored.
"""
from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from elearning.common.v1 import common_pb2
from shared.errors import InvalidArgument


@functools.cache  # a handful of enums; every reply of every service asks (a regex each time)
def enum_prefix(enum_type: EnumTypeWrapper) -> str:
    """`UserRole` -> `USER_ROLE_`: the prefix buf's ENUM_VALUE_PREFIX asks of every value of the enum."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", enum_type.DESCRIPTOR.name).upper() + "_"


def enum_name(enum_type: EnumTypeWrapper, value: int, field: str) -> str:
    """The domain text of an enum value (the zero value keeps its full name, e.g. "REGION_UNSPECIFIED")."""
    try:
        name: str = enum_type.Name(value)
    except ValueError:
        raise InvalidArgument(field, f"unknown value {value}") from None
    return name if value == 0 else name.removeprefix(enum_prefix(enum_type))


def enum_value(enum_type: EnumTypeWrapper, text: str) -> int:
    """The enum value of a domain text ("EUROPE" or its full proto name "REGION_EUROPE")."""
    prefix = enum_prefix(enum_type)
    value: int = enum_type.Value(text if text.startswith(prefix) else prefix + text)
    return value


def enum_texts(enum_type: EnumTypeWrapper) -> tuple[str, ...]:
    """The domain texts of every value but the zero one, in declaration order."""
    return tuple(enum_name(enum_type, v.number, "") for v in enum_type.DESCRIPTOR.values if v.number)


def region_name(value: int, field: str = "region") -> str:
    """The domain name of a Region enum value ("REGION_UNSPECIFIED" when unset)."""
    try:
        return enum_name(common_pb2.Region, value, field)
    except InvalidArgument:
        raise InvalidArgument(field, f"unknown region {value}") from None


def region_value(name: str) -> int:
    return enum_value(common_pb2.Region, name)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = datetime(1970, 1, 1)


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """As Timestamp.FromDatetime (a naive value is UTC), at a fraction of its cost: it runs for every time
    field of every row a service returns (a batch's hundreds)."""
    if value is None:
        return None
    since = value - (NAIVE_EPOCH if value.tzinfo is None else EPOCH)
    return timestamp_pb2.Timestamp(seconds=since.days * 86400 + since.seconds, nanos=since.microseconds * 1000)
