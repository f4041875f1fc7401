"""MongoDB databases per shard, and the translation of driver errors into domain errors.

Every shard has its own database (`Shard.mongo_uri`, `Shard.mongo_db`); shards on the same server share one
client. Writes use write concern `majority` and reads read concern `majority` (a standalone server or the
local nx-27017 stand-in accepts both and has nothing to wait for).

Every unit of work runs inside `MongoShards.operation`, under one pymongo client-side timeout (`pymongo.timeout`)
that covers server selection, connecting, every command and every retry inside it. Its length is the
configured operation timeout, or less when the caller's deadline (`shared.deadlines`) is nearer, so that a
server that is down or hangs turns into UNAVAILABLE naming the shard before the caller gives up. Under such a
timeout pymongo waits for a server for the whole remaining time, not `serverSelectionTimeoutMS`; so while the
client already knows its server is unreachable, an operation gets only the connect timeout, and a MongoDB
that is down is reported within about that time.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pymongo
from pymongo import MongoClient, WriteConcern
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError
from pymongo.read_concern import ReadConcern

from shared import cpu_slots, deadlines
from shared.errors import ShardUnavailable, Unavailable
from shared.secret_files import Login
from shared.settings import Settings
from shared.sharding import ShardMap
from shared.telemetry.db import MongoListener

ROLE = "mongo"


def translate(exc: PyMongoError, shard: str) -> Exception:
    """The domain error for a driver error that no store handled itself (else `exc` unchanged)."""
    if isinstance(exc, ConnectionFailure):  # also ServerSelectionTimeoutError, AutoReconnect, NetworkTimeout
        # The driver's text names hosts and ports: it stays on the exception chain, for the log only.
        return ShardUnavailable(shard, ROLE)
    if isinstance(exc, (ExecutionTimeout, WTimeoutError)) or getattr(exc, "timeout", False):
        return Unavailable(f"shard {shard} ({ROLE}) did not answer in time", reason="SHARD_TIMEOUT",
                           metadata={"shard": shard, "role": ROLE})
    return exc


def _known_down(client: MongoClient[Any]) -> bool:
    """Whether the client's last look at its servers found no primary and at least one error: a server that is
    down then gets only the connect timeout to come back, not the whole budget."""
    topology = client.topology_description
    return not topology.has_writable_server() and any(
        server.error is not None for server in topology.server_descriptions().values())


class MongoShards:
    """The MongoDB database of every shard; the only way a service reaches MongoDB."""

    def __init__(self, shard_map: ShardMap, *, connect_timeout_s: float, operation_timeout_s: float,
                 pool_size: int, app_name: str, login: Login | None = None):
        missing = [s.name for s in shard_map.shards if not s.mongo_uri or not s.mongo_db]
        if missing:
            raise ValueError(f"topology: shard(s) {', '.join(missing)} have no mongo_uri/mongo_db")
        self.shard_map = shard_map
        self.connect_timeout_s = connect_timeout_s
        self.operation_timeout_s = operation_timeout_s
        self._clients: dict[str, MongoClient[Any]] = {}
        self._databases: dict[str, Database[Any]] = {}
        timeout_ms = int(connect_timeout_s * 1000)
        # The password goes to the driver as a keyword, never into the URI (which logs and errors may show).
        credentials: dict[str, Any] = ({"username": login.user, "password": login.password, "authSource": "admin"}
                                       if login else {})
        for shard in shard_map.shards:
            client = self._clients.get(shard.mongo_uri)
            if client is None:  # connect=False: nothing touches the network before the first operation
                client = MongoClient(shard.mongo_uri, serverSelectionTimeoutMS=timeout_ms,
                                     connectTimeoutMS=timeout_ms, maxPoolSize=pool_size, appname=app_name,
                                     tz_aware=True, connect=False, event_listeners=[MongoListener(
                                         {s.mongo_db: s.name for s in shard_map.shards})], **credentials)
                self._clients[shard.mongo_uri] = client
            self._databases[shard.name] = client.get_database(
                shard.mongo_db, write_concern=WriteConcern("majority", wtimeout=int(operation_timeout_s * 1000)),
                read_concern=ReadConcern("majority"))

    @classmethod
    def from_settings(cls, settings: Settings) -> MongoShards:
        return cls(settings.shard_map, connect_timeout_s=settings.connect_timeout_s,
                   operation_timeout_s=settings.statement_timeout_ms / 1000, pool_size=settings.pool_size,
                   app_name=f"elearn-{settings.process}", login=settings.mongo_login)

    def database(self, shard: str) -> Database[Any]:
        return self._databases[shard]

    @contextlib.contextmanager
    def operation(self, shard: str) -> Iterator[Database[Any]]:
        """The shard's database, for one bounded unit of work: every driver call inside shares one time
        budget (see the module docstring), and a server that is down or too slow becomes UNAVAILABLE."""
        db = self._databases[shard]
        budget = deadlines.budget(self.operation_timeout_s)
        if _known_down(db.client):
            budget = min(budget, self.connect_timeout_s)
        try:
            with pymongo.timeout(budget), cpu_slots.released():  # the worker waits on MongoDB meanwhile
                yield db
        except PyMongoError as exc:
            mapped = translate(exc, shard)
            if mapped is exc:
                raise
            raise mapped from exc

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
