"""The one place gRPC channels and server ports are built: TLS with the deployment's CA and this process's
certificate (mutual TLS towards services), or plaintext when the settings say so (`--insecure`)."""
from __future__ import annotations

import functools
import pathlib
from collections.abc import Sequence

import grpc

from shared.settings import TlsSettings

ChannelOptions = Sequence[tuple[str, object]]


class TlsFileError(RuntimeError):
    """A certificate or key named by the settings cannot be read; the message names it."""


@functools.lru_cache(maxsize=16)
def _read(path: str) -> bytes:
    try:
        return pathlib.Path(path).read_bytes()
    except OSError as exc:
        raise TlsFileError(f"cannot read the TLS file {path} ({exc.strerror})") from None


def channel_credentials(tls: TlsSettings) -> grpc.ChannelCredentials:
    """Trust only the deployment's CA; present this process's certificate (services require one)."""
    return grpc.ssl_channel_credentials(root_certificates=_read(tls.ca), private_key=_read(tls.key),
                                        certificate_chain=_read(tls.cert))


def server_credentials(tls: TlsSettings, *, require_client_cert: bool) -> grpc.ServerCredentials:
    """A service requires a client certificate signed by the CA (the gateway and the other services have
    one); the gateway's public port does not, but still verifies one that is presented."""
    return grpc.ssl_server_credentials([(_read(tls.key), _read(tls.cert))], root_certificates=_read(tls.ca),
                                       require_client_auth=require_client_cert)


def _tls_options(target: str, options: ChannelOptions) -> list[tuple[str, object]]:
    """`options`, plus the name to verify the server's certificate against when the target lists several
    instances (`ipv4:a:p1,a:p2`): gRPC would check the whole list as one host name, which no certificate holds.
    Every instance of a target is one service with one certificate, so the first address's host stands for all."""
    scheme, _, addresses = target.partition(":")
    if scheme not in ("ipv4", "ipv6") or "," not in addresses:
        return list(options)
    first = addresses.split(",")[0]
    host = first.rsplit(":", 1)[0].strip("[]")
    return [*options, ("grpc.ssl_target_name_override", host)]


def open_channel(target: str, tls: TlsSettings | None, options: ChannelOptions = ()) -> grpc.Channel:
    """A channel to `target` (host:port, or several instances as `ipv4:...`): TLS when `tls` is set,
    plaintext when it is None."""
    if tls is None:
        return grpc.insecure_channel(target, options=list(options))
    return grpc.secure_channel(target, channel_credentials(tls), options=_tls_options(target, options))


def open_aio_channel(target: str, tls: TlsSettings | None, options: ChannelOptions = ()) -> grpc.aio.Channel:
    """The asyncio twin of `open_channel` (the load driver and the benchmarks)."""
    if tls is None:
        return grpc.aio.insecure_channel(target, options=list(options))
    return grpc.aio.secure_channel(target, channel_credentials(tls), options=_tls_options(target, options))


def add_port(server: grpc.Server, address: str, tls: TlsSettings | None, *, require_client_cert: bool) -> int:
    """Listen on `address` with TLS (or plaintext when `tls` is None); returns the port (0 when it failed)."""
    port: int
    if tls is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, server_credentials(tls, require_client_cert=require_client_cert))
    return port
