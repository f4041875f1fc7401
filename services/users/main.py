"""Boot the users service: pools, in-doubt recovery, the servicer; then serve until signalled."""
from __future__ import annotations

import json
import pathlib
import sys

from elearning.users.v1 import users_service_pb2, users_service_pb2_grpc
from services.users.api import UserApi
from services.users.attempt_store import PgAttemptStore
from services.users.passwords import ScryptHasher
from services.users.service import UserService
from services.users.session_store import PgSessionStore
from services.users.sessions import Sessions
from services.users.store import PgUserStore
from services.users.throttle import SignInLimits
from shared.auth import keys
from shared.auth.tokens import Signer
from shared.pg.pools import ShardPools
from shared.pg.recovery import RecoveryLoop
from shared.pg.unit_of_work import PgUnitsOfWork
from shared.server import ProcessParts, ServiceBinding, run_process
from shared.settings import Settings

SERVICE_NAME = users_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name


def build(settings: Settings) -> ProcessParts:
    pools = ShardPools.from_settings(settings)
    recovery = RecoveryLoop(pools)
    recovery.start()
    store, hasher = PgUserStore(pools), ScryptHasher()
    auth_dir = pathlib.Path(settings.auth_dir)
    sessions = Sessions(PgSessionStore(pools), store, settings.shard_map, hasher, Signer(auth_dir, keys.PEOPLE),
                        SignInLimits(PgAttemptStore(pools), lambda key: settings.shard_map.for_key(key).name))
    api = UserApi(UserService(store, settings.shard_map, hasher, units=PgUnitsOfWork(pools),
                              hash_workers=settings.hash_workers), sessions,
                  lambda: json.dumps(keys.read_jwks(auth_dir)))

    def stop() -> None:
        recovery.stop()
        pools.close()

    return ProcessParts(
        bindings=[ServiceBinding(SERVICE_NAME,
                                 lambda server: users_service_pb2_grpc.add_UserServiceServicer_to_server(api, server))],
        on_stop=stop, shard_gates=pools.gates)


if __name__ == "__main__":
    sys.exit(run_process("users", build))
