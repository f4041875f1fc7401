"""The benchmark's no-work floor runs its hops secured like the cluster's: TLS to the proxy, mutual TLS from
the proxy to the server, which refuses a caller without a certificate."""
from __future__ import annotations

import grpc
import pytest

from benchmarks import grpc_floor
from shared.channels import open_channel


def test_the_floor_echoes_through_its_tls_proxy_and_its_server_wants_a_client_certificate(tmp_path):
    tls = grpc_floor.credentials(tmp_path)
    with grpc_floor.started(tls) as server, grpc_floor.started(tls, server) as proxy:
        for address in (server, proxy):
            with open_channel(address, tls) as channel:
                assert channel.unary_unary(grpc_floor.METHOD)(b"ping", timeout=10) == b"ping"
        anonymous = grpc.ssl_channel_credentials(root_certificates=open(tls.ca, "rb").read())
        with grpc.secure_channel(server, anonymous) as channel, pytest.raises(grpc.RpcError) as refused:
            channel.unary_unary(grpc_floor.METHOD)(b"ping", timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        with open_channel(proxy, None) as plaintext, pytest.raises(grpc.RpcError):
            plaintext.unary_unary(grpc_floor.METHOD)(b"ping", timeout=3)
