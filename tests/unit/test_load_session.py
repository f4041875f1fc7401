"""loaddriver.session and calls.execute: one token per run, merged by the later position of each shard, sent
as x-min-lsn with every call and moved forward by every reply, OK or not."""
from __future__ import annotations

import grpc

from elearning.users.v1 import users_service_pb2 as users_pb
from loaddriver.calls import execute
from loaddriver.plan import Planned
from loaddriver.session import SessionToken
from shared.pg import lsn


class FakeCall:
    def __init__(self, trailers):
        self._trailers = trailers

    def trailing_metadata(self):
        return self._trailers


class FakeError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, trailers):
        self._code, self._trailers = code, trailers

    def code(self):
        return self._code

    def details(self):
        return "rejected"

    def trailing_metadata(self):
        return self._trailers


class FakeStubs:
    """Answers every call with the next of `replies` (trailers, or a FakeError) and keeps the metadata sent."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.sent: list[dict] = []

    def method(self, planned: Planned):
        return self

    def with_call(self, request, timeout, metadata):
        self.sent.append(dict(metadata))
        reply = self.replies.pop(0)
        if isinstance(reply, FakeError):
            raise reply
        return users_pb.User(id=1), FakeCall(reply)


def get_user(region: str = "EUROPE") -> Planned:
    return Planned("GetUser", "users", users_pb.GetUserRequest(id=1), region=region)


def run(planned: Planned, stubs: FakeStubs, session: SessionToken) -> dict:
    record, _response = execute(planned, stubs, session, 5.0, 0.0, 0, 0, False)
    return record


def test_merge_keeps_the_later_position_of_each_shard():
    session = SessionToken("eu:0/3000A28")
    session.merge("na:0/1A2B3C8,eu:0/3000000")
    session.merge("eu:0/3000B00")
    assert session.positions() == {"eu": lsn.parse_lsn("0/3000B00"), "na": lsn.parse_lsn("0/1A2B3C8")}
    assert session.text() == "eu:0/3000B00,na:0/1A2B3C8"


def test_a_malformed_trailer_is_counted_and_left_out():
    session = SessionToken("eu:0/3000A28")
    session.merge("eu:not-an-lsn")
    assert session.text() == "eu:0/3000A28" and session.malformed == 1


def test_no_token_is_sent_before_a_reply_carried_one():
    stubs = FakeStubs((("x-shard", "eu"),))
    session = SessionToken()
    run(get_user(), stubs, session)
    assert stubs.sent == [{"x-region": "EUROPE"}]
    assert session.metadata() == ()


def test_each_call_sends_the_token_of_the_replies_before_it_with_its_region():
    stubs = FakeStubs((("x-min-lsn", "eu:0/3000A28"), ("x-served-by", "eu:primary")),
                      (("x-min-lsn", "na:0/10"),), ())
    session = SessionToken()
    run(get_user(), stubs, session)
    run(get_user("NORTH_AMERICA"), stubs, session)
    run(Planned("GetEnrollment", "enrollments", users_pb.GetUserRequest(id=1)), stubs, session)
    assert stubs.sent == [{"x-region": "EUROPE"},
                          {"x-region": "NORTH_AMERICA", "x-min-lsn": "eu:0/3000A28"},
                          {"x-min-lsn": "eu:0/3000A28,na:0/10"}]


def test_an_error_reply_moves_the_token_too():
    stubs = FakeStubs(FakeError(grpc.StatusCode.INVALID_ARGUMENT, (("x-min-lsn", "apac:0/20"),)), ())
    session = SessionToken("apac:0/10")
    record = run(get_user(), stubs, session)
    run(get_user(), stubs, session)
    assert record["code"] == "INVALID_ARGUMENT" and session.text() == "apac:0/20"
    assert stubs.sent[1]["x-min-lsn"] == "apac:0/20"


def test_the_record_keeps_the_served_by_trailer():
    stubs = FakeStubs((("x-shard", "eu"), ("x-served-by", "eu:replica")), ())
    session = SessionToken()
    assert run(get_user(), stubs, session)["served_by"] == "eu:replica"
    assert run(get_user(), stubs, session)["served_by"] == ""
