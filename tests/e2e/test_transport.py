"""The session cluster's transport as `elearn up` sets it: TLS on the gateway, mutual TLS on every service."""
from __future__ import annotations

import concurrent.futures
import json
import stat
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from launcher.certs import Authority
from launcher.components import SERVICES
from shared.channels import open_channel as raw_channel
from shared.settings import TlsSettings
from tests.e2e.grpcurl import grpcurl

USERS = "elearning.users.v1.UserService"


def health(channel: grpc.Channel, timeout_s: float = 5.0) -> grpc.StatusCode:
    try:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def test_the_topology_and_the_data_folder_hold_the_tls_files(cluster):
    topology = json.loads(cluster.layout.topology_file.read_text())
    assert topology["tls"] == {"ca": str(cluster.layout.tls_dir / "ca.crt"), "dir": str(cluster.layout.tls_dir)}
    names = {p.stem for p in cluster.layout.tls_dir.glob("*.key")}
    assert names >= {"ca", "gateway", "client", *(c.name for c in SERVICES)}
    for key in cluster.layout.tls_dir.glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def test_grpcurl_over_tls_with_the_local_ca_as_the_readme_shows(cluster):
    listed = grpcurl(cluster.gateway, "list", tls=cluster.tls)
    assert listed.returncode == 0, listed.stderr
    assert USERS in listed.stdout.split()


def test_grpcurl_in_plaintext_gets_nothing_from_the_gateway(cluster):
    result = grpcurl(cluster.gateway, "list", flags=("-connect-timeout", "5"), tls=None)
    assert result.returncode != 0


@pytest.mark.parametrize("target", ["gateway", "users"])
def test_plaintext_clients_fail_cleanly_and_at_once(cluster, target):
    """20 concurrent plaintext callers, two rounds: UNAVAILABLE for each, far within the 10 s deadline."""
    address = cluster.gateway if target == "gateway" else cluster.service(target)
    for _round in range(2):
        began = time.monotonic()

        def call(_i: int) -> grpc.StatusCode:
            with grpc.insecure_channel(address) as channel:
                return health(channel, timeout_s=10)

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            codes = set(pool.map(call, range(20)))
        assert codes == {grpc.StatusCode.UNAVAILABLE}
        assert time.monotonic() - began < 5


@pytest.mark.parametrize("service", [c.name for c in SERVICES])
def test_every_service_refuses_a_client_certificate_of_another_ca(cluster, tmp_path, service):
    stranger = Authority(tmp_path).issue("client")
    forged = TlsSettings(ca=cluster.tls.ca, cert=str(stranger.cert), key=str(stranger.key))
    with raw_channel(cluster.service(service), forged) as channel:
        assert health(channel) == grpc.StatusCode.UNAVAILABLE
    with raw_channel(cluster.service(service), cluster.tls) as channel:
        assert health(channel) == grpc.StatusCode.OK


def test_a_service_refuses_a_client_with_only_the_ca(cluster):
    """What the gateway's public port accepts, a service does not: it wants a certificate of the CA."""
    with open(cluster.tls.ca, "rb") as pem:
        credentials = grpc.ssl_channel_credentials(root_certificates=pem.read())
    with grpc.secure_channel(cluster.service("payments"), credentials) as channel:
        assert health(channel) == grpc.StatusCode.UNAVAILABLE
    with grpc.secure_channel(cluster.gateway, credentials) as channel:
        assert health(channel) == grpc.StatusCode.OK
