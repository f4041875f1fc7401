"""The reply conversions every service makes per call give what protobuf's own would: timestamps and enum
prefixes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from google.protobuf import timestamp_pb2

from elearning.common.v1 import common_pb2
from elearning.users.v1 import users_service_pb2 as users_pb
from shared.proto_values import enum_prefix, enum_value, region_value, timestamp


def test_a_timestamp_is_the_one_from_datetime_makes():
    zones = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)), None)
    moments = (datetime(2026, 12, 2, 10, 3, 41, 92_123), datetime(1969, 12, 31, 23, 59, 59, 999_999),
               datetime(1970, 1, 1), datetime(1900, 2, 28, 1, 2, 3, 4), datetime(2999, 12, 31, 23, 59, 59))
    for moment in moments:
        for zone in zones:
            value = moment.replace(tzinfo=zone)
            expected = timestamp_pb2.Timestamp()
            expected.FromDatetime(value)
            assert timestamp(value) == expected, value
    assert timestamp(None) is None


def test_enum_prefixes_and_values():
    assert enum_prefix(users_pb.UserRole) == "USER_ROLE_" and enum_prefix(common_pb2.Region) == "REGION_"
    assert region_value("EUROPE") == common_pb2.REGION_EUROPE == enum_value(common_pb2.Region, "REGION_EUROPE")
