"""Conversions between protobuf values and domain values that every API layer needs."""
from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from elearning.common.v1 import common_pb2
from shared.errors import InvalidArgument


def region_name(value: int, field: str = "region") -> str:
    """The domain name of a Region enum value ("REGION_UNSPECIFIED" when unset)."""
    try:
        return common_pb2.Region.Name(value)
    except ValueError:
        raise InvalidArgument(field, f"unknown region {value}") from None


def region_value(name: str) -> int:
    return common_pb2.Region.Value(name)


def enum_name(enum_type, value: int, field: str) -> str:
    try:
        return enum_type.Name(value)
    except ValueError:
        raise InvalidArgument(field, f"unknown value {value}") from None


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts
