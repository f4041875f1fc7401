"""Races of CreatePayment on the real cluster: twenty payments of one enrollment at once charge once and ask
the card processor once; an enrollment whose course is deleted or closed is never charged."""
from __future__ import annotations

import json
import time
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.payments.v1 import payments_service_pb2_grpc as pb_grpc
from services.payments.processor import token_digest
from tests.channels import open_channel
from tests.integration import courses_client, payments_client
from tests.integration.races import tally, together

REGIONS = ("EUROPE", "ASIA", "NORTH_AMERICA")  # one per shard
CHARGES = "SELECT count(*), count(*) FILTER (WHERE status = 'SUCCEEDED') FROM transactions WHERE enrollment_id = %s"


@pytest.fixture(scope="module")
def payments(cluster):
    with open_channel(cluster, cluster.service("payments")) as channel:
        yield pb_grpc.PaymentServiceStub(channel)


def shard_of(cluster, id_: int) -> str:
    return cluster.settings().shard_map.for_id(id_).name


def authorizations(cluster, token: str, settle_s: float = 0.5) -> int:
    """How often the sandbox processor was asked to authorize a charge on the card holding `token`, from
    the payments service's audit lines (read again after a moment, in case a line was still being written)."""
    digest = token_digest(token)
    log_file = cluster.layout.logs / "payments.log"

    def count() -> int:
        found = 0
        for line in log_file.read_text(errors="replace").splitlines():
            if digest in line and line.startswith("{"):
                entry = json.loads(line)
                found += entry.get("msg") == "card authorization" and entry.get("token_digest") == digest
        return found

    first = count()
    time.sleep(settle_s)
    return max(first, count())


def fresh_token() -> str:
    return f"tok_visa_race_{uuid.uuid4().hex}"


@pytest.mark.slow
def test_twenty_concurrent_payments_with_different_request_ids_charge_and_authorize_once(cluster, gateway_channel,
                                                                                         payments):
    course = payments_client.published_course(gateway_channel)
    rounds, callers, seen = 3, 20, []
    for n in range(rounds):
        token = fresh_token()
        who = payments_client.payer(gateway_channel, course, region=REGIONS[n % len(REGIONS)], token=token)
        outcomes = together([lambda: payments.CreatePayment(who.request(), timeout=30) for _ in range(callers)])
        charges = cluster.query(shard_of(cluster, who.user.id), "primary", CHARGES, (who.enrollment.id,))[0]
        seen.append((tally(outcomes), charges, authorizations(cluster, token)))
    expected = ({"OK": 1, "FAILED_PRECONDITION": callers - 1}, (1, 1), 1)
    assert all(s == expected for s in seen), f"per round (outcomes, (charges, succeeded), authorizations): {seen}"


def refused_without_asking(cluster, payments, who, token: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        payments.CreatePayment(who.request(), timeout=10)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION, caught.value.details()
    assert cluster.query(shard_of(cluster, who.user.id), "primary", CHARGES, (who.enrollment.id,))[0] == (0, 0)
    assert authorizations(cluster, token, settle_s=0.2) == 0


def test_an_enrollment_in_a_closed_course_is_not_charged(cluster, gateway_channel, payments):
    course = payments_client.published_course(gateway_channel, region="ASIA")
    token = fresh_token()
    who = payments_client.payer(gateway_channel, course, region="EUROPE", token=token)
    courses_client.stub(gateway_channel).UpdateCourse(courses_pb.UpdateCourseRequest(
        course=courses_pb.Course(id=course.id, state=courses_pb.COURSE_STATE_ARCHIVED),
        update_mask=field_mask_pb2.FieldMask(paths=["state"])), timeout=5)
    refused_without_asking(cluster, payments, who, token)


def test_an_enrollment_whose_course_is_gone_is_not_charged(cluster, gateway_channel, payments):
    """An orphan left behind before the delete protocol existed (made here by deleting the row directly)."""
    course = payments_client.published_course(gateway_channel, region="NORTH_AMERICA")
    token = fresh_token()
    who = payments_client.payer(gateway_channel, course, region="ASIA", token=token)
    cluster.execute(shard_of(cluster, course.id), "DELETE FROM courses WHERE id = %s", (course.id,))
    refused_without_asking(cluster, payments, who, token)
