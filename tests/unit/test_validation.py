"""shared.validation: the field rules every service shares, each naming its field."""
from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from elearning.content.v1 import content_service_pb2 as content_pb
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.users.v1 import users_service_pb2 as users_pb
from shared import validation
from shared.errors import InvalidArgument, Violations


def problems(rule, value, **options) -> list[tuple[str, str]]:
    violations = Violations()
    rule(value, "f", violations, **options)
    return [(v.field, v.description) for v in violations.items]


@pytest.mark.parametrize("request_message, field", [
    (users_pb.CreateUserRequest(user=users_pb.User(full_name="a\x00")), "user.full_name"),
    (users_pb.CreateUserRequest(user=users_pb.User(profile=users_pb.UserProfile(bio="\x00"))), "user.profile.bio"),
    (content_pb.CreateContentRequest(content_item=content_pb.ContentItem(tags=["ok", "b\x00d"])),
     "content_item.tags[1]"),
    (content_pb.CreateContentRequest(content_item=content_pb.ContentItem(video=content_pb.VideoDetails(
        renditions=[content_pb.Rendition(url="x"), content_pb.Rendition(url="\x00")]))),
     "content_item.video.renditions[1].url"),
    (enrollments_pb.BatchRecordLessonProgressRequest(requests=[enrollments_pb.RecordLessonProgressRequest(
        enrollment_id=1)] * 3, request_id="r\x00"), "request_id"),
])
def test_a_nul_anywhere_in_a_request_names_its_field(request_message, field):
    with pytest.raises(InvalidArgument) as err:
        validation.no_nul_anywhere(request_message)
    assert err.value.violations[0].field == field


def test_only_messages_that_can_hold_text_are_visited():
    """A batch's items of numbers alone are skipped; a type with text at any depth is visited."""
    assert not validation._holds_text(enrollments_pb.RecordLessonProgressRequest.DESCRIPTOR)
    assert not validation._holds_text(Timestamp.DESCRIPTOR)
    assert validation._holds_text(enrollments_pb.BatchRecordLessonProgressRequest.DESCRIPTOR)
    assert validation._holds_text(content_pb.VideoDetails.DESCRIPTOR)


def test_a_request_without_nul_passes():
    validation.no_nul_anywhere(users_pb.CreateUserRequest(user=users_pb.User(full_name="Zoë 🙂", email="a@b.co")))


def test_text_trims_and_checks_nul_blank_and_length():
    assert problems(validation.text, "a\x00b") == [("f", validation.NO_NUL)]
    assert problems(validation.text, "  ") == [("f", "must not be blank")]
    assert problems(validation.text, "  ", required=False) == []
    assert problems(validation.text, "abc", limit=2) == [("f", "must be at most 2 characters (got 3)")]


@pytest.mark.parametrize("amount", ["19.99", "0", ".5", "5.", "+3"])
def test_ascii_decimals_pass(amount):
    assert problems(validation.ascii_decimal, amount) == []


@pytest.mark.parametrize("amount", ["١٩.٩٩", "１２", "½", "1e3", "NaN", "Infinity", "1,5", "", "--1"])
def test_other_digits_and_notations_are_refused(amount):
    assert problems(validation.ascii_decimal, amount)


@pytest.mark.parametrize("tag, ok", [("en", True), ("pt-BR", True), ("zh-Hant-TW", True), ("", True),
                                     ("e", False), ("en_US", False), ("!!", False), ("x" * 40, False)])
def test_language_tags(tag, ok):
    assert (problems(validation.language, tag) == []) is ok


def test_a_required_language_must_be_given():
    assert problems(validation.language, " ", required=True)


@pytest.mark.parametrize("zone, ok", [("UTC", True), ("Europe/Paris", True), ("America/Argentina/Buenos_Aires", True),
                                      ("", True), ("Mars/Base", False), ("../../etc/passwd", False),
                                      ("Europe/Nowhere", False), ("+02:00", False)])
def test_time_zones_are_iana_names(zone, ok):
    assert (problems(validation.time_zone, zone) == []) is ok


@pytest.mark.parametrize("seconds, nanos", [(2 ** 62, 0), (-2 ** 62, 0), (253_402_300_800, 0), (0, -1),
                                            (0, 1_000_000_000)])
def test_a_timestamp_outside_protobufs_range_names_its_field(seconds, nanos):
    assert problems(lambda v, f, vs: validation.timestamp(v, "start_time", vs),
                    Timestamp(seconds=seconds, nanos=nanos))[0][0] == "start_time"


def test_a_timestamp_at_the_ends_of_the_range_is_a_datetime():
    assert validation.timestamp(Timestamp(seconds=validation.MIN_SECONDS), "t", Violations()).year == 1
    end = Timestamp(seconds=validation.MAX_SECONDS, nanos=999_999_999)
    assert validation.timestamp(end, "t", Violations()).year == 9999
