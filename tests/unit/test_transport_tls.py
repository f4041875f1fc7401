"""TLS and mutual TLS on real in-process servers: certificates from launcher.certs, ports from shared.server."""
from __future__ import annotations

import concurrent.futures
import os
import stat
import time

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc

from launcher.certs import Authority
from launcher.processes import health_status
from shared import balancing
from shared.channels import open_channel
from shared.server import create_server
from shared.settings import TlsSettings, load_settings

INSECURE = {"ELEARN_TLS_INSECURE": "1"}


def files(authority: Authority, name: str) -> TlsSettings:
    pair = authority.issue(name)
    return TlsSettings(str(authority.ca.cert), str(pair.cert), str(pair.key))


@pytest.fixture(scope="module")
def authorities(tmp_path_factory):
    return Authority(tmp_path_factory.mktemp("tls")), Authority(tmp_path_factory.mktemp("other-ca"))


def serve(process: str, tls: TlsSettings | None):
    settings = load_settings(process, INSECURE)
    settings = type(settings)(**{**settings.__dict__, "tls": tls})
    server, port, _health = create_server(settings, "127.0.0.1:0", [])
    return server, f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
def service(authorities):
    server, address = serve("users", files(authorities[0], "users"))
    yield address
    server.stop(0)


@pytest.fixture(scope="module")
def gateway(authorities):
    server, address = serve("gateway", files(authorities[0], "gateway"))
    yield address
    server.stop(0)


def check(address: str, tls: TlsSettings | None, timeout_s: float = 3.0) -> grpc.StatusCode:
    with open_channel(address, tls) as channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def test_keys_are_private_and_a_warm_start_reuses_every_file(tmp_path):
    first = Authority(tmp_path)
    pair = first.issue("users")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert {stat.S_IMODE(os.stat(p).st_mode) for p in tmp_path.glob("*.key")} == {0o600}
    again = Authority(tmp_path)
    again.issue("users")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(first.ca.cert.read_bytes()))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "users" in names.get_values_for_type(x509.DNSName)


def test_a_certificate_of_another_ca_is_replaced_on_the_next_start(tmp_path, authorities):
    foreign = authorities[1].issue("users")
    (tmp_path / "users.crt").write_bytes(foreign.cert.read_bytes())
    (tmp_path / "users.key").write_bytes(foreign.key.read_bytes())
    local = Authority(tmp_path)
    cert = x509.load_pem_x509_certificate(local.issue("users").cert.read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(local.ca.cert.read_bytes()))


def test_a_service_serves_a_client_with_a_certificate_of_its_ca(authorities, service):
    assert check(service, files(authorities[0], "client")) == grpc.StatusCode.OK
    assert health_status(service, "", tls=files(authorities[0], "client")) == "SERVING"


def test_a_target_of_several_instances_verifies_their_certificate(authorities, service):
    # The launcher names a service's instances as one round_robin target; each must pass verification.
    second, address = serve("users", files(authorities[0], "users"))
    try:
        target = f"ipv4:{service},{address}"
        with open_channel(target, files(authorities[0], "client"), balancing.CHANNEL_OPTIONS) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for _ in range(4):  # round_robin: both instances answer
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        second.stop(0)


def test_a_service_refuses_a_client_certificate_of_another_ca(authorities, service):
    other = files(authorities[1], "client")
    # The client trusts the service's CA, but presents a certificate the service's CA never signed.
    stranger = TlsSettings(ca=files(authorities[0], "client").ca, cert=other.cert, key=other.key)
    assert check(service, stranger) == grpc.StatusCode.UNAVAILABLE
    assert health_status(service, "", tls=stranger) == "UNREACHABLE"


def test_a_service_refuses_a_client_without_a_certificate(authorities, service):
    with grpc.secure_channel(service, grpc.ssl_channel_credentials(
            root_certificates=open(authorities[0].ca.cert, "rb").read())) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_client_refuses_a_server_of_another_ca(authorities, service):
    assert check(service, files(authorities[1], "client")) == grpc.StatusCode.UNAVAILABLE


def test_the_gateway_takes_clients_with_only_the_ca(authorities, gateway):
    with grpc.secure_channel(gateway, grpc.ssl_channel_credentials(
            root_certificates=open(authorities[0].ca.cert, "rb").read())) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("target", ["gateway", "service"])
def test_plaintext_to_a_tls_port_fails_at_once_with_unavailable(request, target):
    """30 concurrent plaintext callers, two rounds: each gets UNAVAILABLE well within its deadline."""
    address = request.getfixturevalue(target)
    for _round in range(2):
        began = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            codes = list(pool.map(lambda _i: check(address, None, timeout_s=10), range(30)))
        assert set(codes) == {grpc.StatusCode.UNAVAILABLE}
        assert time.monotonic() - began < 5


def test_plaintext_server_and_client_when_asked_for():
    server, address = serve("users", None)
    try:
        assert health_status(address, "") == "SERVING"
        assert load_settings("users", INSECURE).tls is None
    finally:
        server.stop(0)
