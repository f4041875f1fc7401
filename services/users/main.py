"""Boot the users service: pools, in-doubt recovery, the servicer; then serve until signalled."""
from __future__ import annotations

import sys

from elearning.users.v1 import users_service_pb2, users_service_pb2_grpc
from services.users.api import UserApi
from services.users.passwords import ScryptHasher
from services.users.service import UserService
from services.users.store import PgUserStore
from shared.pg import ShardPools
from shared.recovery import RecoveryLoop
from shared.server import ProcessParts, ServiceBinding, run_process
from shared.settings import Settings

SERVICE_NAME = users_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name


def build(settings: Settings) -> ProcessParts:
    pools = ShardPools.from_settings(settings)
    recovery = RecoveryLoop(pools)
    recovery.start()
    api = UserApi(UserService(PgUserStore(pools), settings.shard_map, ScryptHasher(),
                               hash_workers=settings.hash_workers))

    def stop() -> None:
        recovery.stop()
        pools.close()

    return ProcessParts(
        bindings=[ServiceBinding(SERVICE_NAME,
                                 lambda server: users_service_pb2_grpc.add_UserServiceServicer_to_server(api, server))],
        on_stop=stop, shard_gates=pools.gates)


if __name__ == "__main__":
    sys.exit(run_process("users", build))
