"""A container health check over grpc.health.v1: `python -m launcher.probe HOST:PORT [SERVICE]`.

Exits 0 when the server reports SERVICE (default: the whole server, "") SERVING, else 1 with the status.
"""
from __future__ import annotations

import os
import sys

from launcher.processes import health_status
from shared.settings import SettingsError, read_topology, tls_settings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        print("usage: python -m launcher.probe HOST:PORT [FULL.SERVICE.Name]", file=sys.stderr)
        return 2
    address, service = args[0], args[1] if len(args) == 2 else ""
    try:  # the probe presents the certificate of the process it checks (ELEARN_TLS_*), or the topology's client one
        tls = tls_settings("client", read_topology(os.environ), os.environ)
    except SettingsError as exc:
        print(f"probe: bad settings: {exc}", file=sys.stderr)
        return 2
    status = health_status(address, service, timeout_s=2.0, tls=tls)
    if status != "SERVING":
        print(f"{address} {service or '(server)'}: {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
