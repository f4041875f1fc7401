"""Boot the gateway: forward every public service to its configured backend, with health and reflection."""
from __future__ import annotations

import logging
import sys

from gateway.catalog import PUBLIC_SERVICES
from gateway.proxy import Forwarder
from shared import logs
from shared.server import PortInUse, create_server, serve_until_signalled
from shared.settings import SettingsError, load_settings


def main() -> int:
    try:
        settings = load_settings("gateway")
    except SettingsError as exc:
        print(f"gateway: bad settings: {exc}", file=sys.stderr)
        return 2
    logs.configure("gateway", settings.log_level)
    forwarder = Forwarder(settings.service_addresses)
    try:
        server, _port, health = create_server(settings, settings.listen, [], handlers=[forwarder],
                                              reflection_names=list(PUBLIC_SERVICES))
    except PortInUse as exc:
        logging.getLogger(__name__).error(str(exc))
        return 2
    serve_until_signalled(server, health, settings, on_stop=forwarder.close)
    return 0


if __name__ == "__main__":
    sys.exit(main())
