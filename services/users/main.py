"""Boot the users service: settings from the environment, pools, in-doubt recovery, then serve."""
from __future__ import annotations

import logging
import sys

from elearning.users.v1 import users_service_pb2, users_service_pb2_grpc
from services.users.api import UserApi
from services.users.passwords import ScryptHasher
from services.users.service import UserService
from services.users.store import PgUserStore
from shared import logs
from shared.pg import ShardPools
from shared.recovery import RecoveryLoop
from shared.server import PortInUse, ServiceBinding, create_server, serve_until_signalled
from shared.settings import SettingsError, load_settings

SERVICE_NAME = users_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name


def main() -> int:
    try:
        settings = load_settings("users")
    except SettingsError as exc:
        print(f"users: bad settings: {exc}", file=sys.stderr)
        return 2
    logs.configure("users", settings.log_level)
    pools = ShardPools.from_settings(settings)
    recovery = RecoveryLoop(pools)
    recovery.start()
    api = UserApi(UserService(PgUserStore(pools), settings.shard_map, ScryptHasher()))
    binding = ServiceBinding(SERVICE_NAME, lambda server: users_service_pb2_grpc.add_UserServiceServicer_to_server(
        api, server))
    try:
        server, _port, health = create_server(settings, settings.listen, [binding])
    except PortInUse as exc:
        logging.getLogger(__name__).error(str(exc))
        return 2

    def close() -> None:
        recovery.stop()
        pools.close()

    serve_until_signalled(server, health, settings, on_stop=close)
    return 0


if __name__ == "__main__":
    sys.exit(main())
