"""How every test opens a gRPC channel to the session cluster: TLS with the cluster's CA and the client
certificate of its data folder (plaintext only for a cluster up with --insecure)."""
from __future__ import annotations

import grpc

from shared import channels


def open_channel(cluster, target: str, *, token: str | None = None) -> grpc.Channel:
    """A channel to `target` (the gateway or a service) of `cluster`; `token` is for the identity part."""
    del token  # authentication tokens are added by the identity work (issue 16, part A)
    return channels.open_channel(target, cluster.layout.client_tls())
