"""Through the public gateway with the real grpcurl binary, server reflection and no proto files."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from tests.e2e.grpcurl import grpcurl
from tools.codegen import PROTOSET

USERS = "elearning.users.v1.UserService"
PUBLIC = ("elearning.users.v1.UserService", "elearning.courses.v1.CourseService",
          "elearning.enrollments.v1.EnrollmentService", "elearning.payments.v1.PaymentService",
          "elearning.content.v1.ContentService")


def test_reflection_lists_every_public_service(cluster):
    result = grpcurl(cluster.gateway, "list", tls=cluster.tls)
    assert result.returncode == 0, result.stderr
    listed = set(result.stdout.split())
    assert set(PUBLIC) <= listed and "grpc.health.v1.Health" in listed


def test_grpcurl_creates_and_reads_a_user_through_the_gateway(cluster):
    email = f"grpcurl-{uuid.uuid4().hex[:10]}@example.com"
    created = grpcurl(cluster.gateway, f"{USERS}/CreateUser", tls=cluster.tls, data={
        "user": {"email": email, "full_name": "Curl User", "region": "REGION_EUROPE"},
        "password": "grpcurl-pass", "request_id": str(uuid.uuid4())})
    assert created.returncode == 0, created.stderr
    user = json.loads(created.stdout)
    assert user["email"] == email and user["region"] == "REGION_EUROPE"
    assert user["has_password"] is True and "grpcurl-pass" not in created.stdout and "password" not in user
    anonymous = grpcurl(cluster.gateway, f"{USERS}/GetUser", tls=cluster.tls, data={"id": user["id"]})
    assert "Code: Unauthenticated" in anonymous.stderr
    # As the README shows: the user's own token (`elearn token --user ID`) in the authorization header.
    token = subprocess.run([sys.executable, "-m", "launcher.cli", "token", "--data-dir", str(cluster.layout.data_dir),
                            "--user", user["id"]], capture_output=True, text=True, timeout=60).stdout.strip()
    fetched = grpcurl(cluster.gateway, f"{USERS}/GetUser", tls=cluster.tls, data={"id": user["id"]},
                      flags=("-H", f"authorization: Bearer {token}"))
    assert fetched.returncode == 0, fetched.stderr
    assert json.loads(fetched.stdout)["email"] == email
    assert cluster.query("eu", "primary", "SELECT email FROM users WHERE id = %s", (int(user["id"]),)) == [(email,)]


def test_grpcurl_shows_the_field_of_a_bad_request(cluster):
    result = grpcurl(cluster.gateway, f"{USERS}/CreateUser", tls=cluster.tls, data={
        "user": {"email": "not-an-email", "full_name": "X", "region": "REGION_EUROPE"}})
    assert result.returncode != 0
    assert "Code: InvalidArgument" in result.stderr
    assert '"field": "user.email"' in result.stderr.replace('":"', '": "')


@pytest.mark.parametrize("target", ["gateway", "users"])
def test_health_check_answers_serving_by_full_service_name(cluster, target):
    address = cluster.gateway if target == "gateway" else cluster.service("users")
    result = grpcurl(address, "grpc.health.v1.Health/Check", data={"service": USERS}, tls=cluster.tls,
                     client_cert=target != "gateway")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "SERVING"}
    unknown = grpcurl(address, "grpc.health.v1.Health/Check", data={"service": "no.such.Service"},
                      tls=cluster.tls, client_cert=target != "gateway")
    assert "NotFound" in unknown.stderr


def test_describe_a_method_with_the_shipped_descriptor_set(cluster):
    result = grpcurl(cluster.gateway, "describe", f"{USERS}.CreateUser", flags=("-protoset", str(PROTOSET)),
                     tls=cluster.tls)
    assert result.returncode == 0, result.stderr
    assert "rpc CreateUser ( .elearning.users.v1.CreateUserRequest )" in result.stdout
    assert "// Creates a user. The email must be unique across all regions." in result.stdout  # source info
