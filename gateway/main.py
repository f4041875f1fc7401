"""Boot the gateway: forward every public service to its configured backend, with health and reflection."""
from __future__ import annotations

import sys

from gateway.catalog import PUBLIC_SERVICES
from gateway.proxy import Forwarder
from shared.server import ProcessParts, run_process
from shared.settings import Settings


def build(settings: Settings) -> ProcessParts:
    forwarder = Forwarder(settings.service_addresses)
    return ProcessParts(handlers=[forwarder], reflection_names=list(PUBLIC_SERVICES), on_stop=forwarder.close)


if __name__ == "__main__":
    sys.exit(run_process("gateway", build))
