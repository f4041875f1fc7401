"""Boot the gateway: route every public method by region to its backend, with health and reflection."""
from __future__ import annotations

import pathlib
import sys

from gateway.backends import Backends, HealthWatcher
from gateway.catalog import PUBLIC_SERVICES, public_methods
from gateway.proxy import Forwarder
from gateway.routing import MethodRouter, Routes
from shared.auth.client_address import GATEWAY
from shared.auth.tokens import ServiceToken
from shared.server import ProcessParts, run_process
from shared.settings import Settings


def build(settings: Settings) -> ProcessParts:
    backends = Backends(settings.tls)
    router = MethodRouter(Routes(settings.routes, settings.shard_map), public_methods())
    watcher = HealthWatcher(backends, {full_name: set(settings.routes.get(key, {}).values())
                                       for full_name, key in PUBLIC_SERVICES.items()})

    identity = ServiceToken(pathlib.Path(settings.auth_dir), GATEWAY) if settings.auth_dir else None

    def stop() -> None:
        watcher.stop()
        backends.close()

    return ProcessParts(handlers=[Forwarder(router, backends, identity=identity)],
                        reflection_names=list(PUBLIC_SERVICES), on_start=watcher.start, on_stop=stop)


if __name__ == "__main__":
    sys.exit(run_process("gateway", build))
