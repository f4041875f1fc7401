"""The authorization matrix: every public method (from the policy table, which a unit test holds to the
descriptors) x {anonymous, student own/other, instructor own/other, admin, service} -> the expected answer,
through the gateway and direct to the method's service, with and without forged caller headers.

A refusal must be the access step's own (its ErrorInfo reason; at the gateway, its domain says the gateway
refused before forwarding); an admitted call may fail later for its bogus content, never for access.
Ownership of loaded resources (NOT_FOUND) is tested with real resources in tests/integration/test_ownership.py.
"""
from __future__ import annotations

import time

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory

from gateway.catalog import PUBLIC_SERVICES
from shared import ids
from shared.auth import keys, policy
from shared.auth.step import NOT_OWNER, ROLE_NOT_ALLOWED, STEP_REASONS, TOKEN_MISSING, field_value
from shared.auth.tokens import Signer
from tests.channels import open_channel, token_for
from tests.integration.users_client import error_info

pytestmark = pytest.mark.slow

NOW_MS = int(time.time() * 1000)
STUDENT, OTHER_STUDENT, INSTRUCTOR, OTHER_INSTRUCTOR, ADMIN = (ids.encode(NOW_MS, 2, n) for n in range(1, 6))
FORGED = (("x-user-id", str(ADMIN)), ("x-role", "ADMIN"), ("x-caller", "service:sso"), ("x-caller-id", str(ADMIN)))
ADMITTED = "admitted"


def request_for(method: str, owner_id: int) -> bytes:
    """The method's request with every ownership field holding `owner_id` (other fields left empty)."""
    found = descriptor_pool.Default().FindMethodByName(method.lstrip("/").replace("/", "."))
    message = message_factory.GetMessageClass(found.input_type)()
    rule = policy.RULES[method]
    if rule.owner:
        *parents, last = rule.owner.split(".")
        holder = field_value(message, ".".join(parents)) if parents else message
        setattr(holder, last, owner_id)
    return message.SerializeToString()


def service_identity(rule: policy.Rule) -> str:
    listed = sorted(i for i in rule.allow if i.startswith("service:"))
    return listed[0] if listed else "service:courses"


def expected(rule: policy.Rule, identity: str, own: bool) -> tuple[str, str]:
    if identity == policy.ANONYMOUS:
        return (ADMITTED, "") if identity in rule.allow else ("UNAUTHENTICATED", TOKEN_MISSING)
    if identity not in rule.allow:
        return "PERMISSION_DENIED", ROLE_NOT_ALLOWED
    if rule.owner and identity in (policy.STUDENT, policy.INSTRUCTOR) and not own:
        return "PERMISSION_DENIED", NOT_OWNER
    return ADMITTED, ""


def callers(cluster, rule: policy.Rule):
    """(label, identity, token, owner ID in the request, whether that is the caller's own)."""
    service = service_identity(rule)
    name = service.removeprefix("service:")
    yield "anonymous", policy.ANONYMOUS, None, STUDENT, False
    yield "student own", policy.STUDENT, token_for(cluster, STUDENT, "STUDENT"), STUDENT, True
    yield "student other", policy.STUDENT, token_for(cluster, STUDENT, "STUDENT"), OTHER_STUDENT, False
    yield "instructor own", policy.INSTRUCTOR, token_for(cluster, INSTRUCTOR, "INSTRUCTOR"), INSTRUCTOR, True
    yield ("instructor other", policy.INSTRUCTOR, token_for(cluster, INSTRUCTOR, "INSTRUCTOR"), OTHER_INSTRUCTOR,
           False)
    yield "admin", policy.ADMIN, token_for(cluster, ADMIN, "ADMIN"), OTHER_STUDENT, False
    yield service, service, Signer(cluster.layout.auth_dir, keys.service_signer(name)).mint(
        service, "SERVICE").token, OTHER_STUDENT, False


def outcome(channel: grpc.Channel, method: str, request: bytes, metadata) -> tuple[str, str, str]:
    try:
        channel.unary_unary(method)(request, timeout=10, metadata=metadata)
    except grpc.RpcError as exc:
        info = error_info(exc)
        return exc.code().name, info.reason if info else "", info.domain if info else ""
    return "OK", "", ""


@pytest.fixture(scope="module")
def channels(cluster):
    opened: dict = {}
    yield lambda target, token: opened.setdefault((target, token), open_channel(cluster, target, token=token))
    for channel in opened.values():
        channel.close()


@pytest.mark.parametrize("method", sorted(policy.RULES))
def test_every_caller_gets_the_answer_the_table_gives(cluster, channels, method):
    rule = policy.RULES[method]
    service = PUBLIC_SERVICES[method.lstrip("/").split("/")[0]]
    wrong = []
    for label, identity, token, owner_id, own in callers(cluster, rule):
        want_code, want_reason = expected(rule, identity, own)
        request = request_for(method, owner_id)
        for target, where in ((cluster.gateway, "gateway"), (cluster.service(service), service)):
            for metadata in ((), FORGED):
                code, reason, domain = outcome(channels(target, token), method, request, metadata)
                if want_code == ADMITTED:
                    ok = reason not in STEP_REASONS and code != "PERMISSION_DENIED"
                else:
                    ok = (code, reason) == (want_code, want_reason) and domain == f"elearning.{where}"
                if not ok:
                    wrong.append(f"{label} via {where}{' (forged header)' if metadata else ''}: "
                                 f"{code} {reason} from {domain}, expected {want_code} {want_reason}")
    assert not wrong, "\n".join(wrong)
