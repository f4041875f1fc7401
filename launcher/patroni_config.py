"""The Patroni configuration of one local PostgreSQL node (written as JSON, which is YAML too).

Per shard, two Patroni members (nodes "a" and "b") share one scope in the local etcd. The settings that
every member must agree on (ttl, synchronous mode, server limits) are Patroni's bootstrap DCS settings,
stored in etcd by the member that bootstraps the shard and changed later through the REST API.
"""
from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass

# ttl is Patroni's minimum (it raises anything lower to 20 s): a leader whose whole node died is replaced
# once its key expires. Patroni requires loop_wait + 2 * retry_timeout <= ttl.
TTL_S = 20
LOOP_WAIT_S = 2
RETRY_TIMEOUT_S = 9
MAX_LAG_ON_FAILOVER = 1024 * 1024  # bytes; with a synchronous standby the promoted node lags by nothing

SERVER_PARAMETERS = {  # the same on every member (Patroni keeps some of them in step across the shard)
    "max_connections": 300,
    "max_prepared_transactions": 100,  # the cross-shard two-phase commit
    "max_wal_senders": 10,
    "max_replication_slots": 10,
    "wal_level": "replica",
    "wal_log_hints": "on",  # pg_rewind of an old primary needs it
    "wal_keep_size": "256MB",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    "synchronous_commit": "on",
}
# Every TCP connection: TLS and a SCRAM password (a connection without TLS matches no line and is refused).
# The socket folder is the postgres user's alone (0700), and peer lets only that user in as itself.
PG_HBA = ["local all all peer",
          "hostssl replication replicator 127.0.0.1/32 scram-sha-256",
          "hostssl all all 127.0.0.1/32 scram-sha-256"]


@dataclass(frozen=True)
class Member:
    shard: str
    name: str            # the member name, also its application_name as a standby (e.g. "eu_a")
    pg_port: int
    rest_port: int
    data_dir: pathlib.Path
    sockets: pathlib.Path
    log_dir: pathlib.Path
    etcd: str            # host:port of the etcd client endpoint


@dataclass(frozen=True)
class NodeAuth:
    """The node's passwords (Patroni sets them when it bootstraps the shard) and its TLS files."""

    superuser_password: str
    replication_password: str
    cert: pathlib.Path
    key: pathlib.Path
    ca: pathlib.Path


def config(member: Member, bin_dir: pathlib.Path, auth: NodeAuth, synchronous: bool = True) -> dict:
    local = f"127.0.0.1:{member.pg_port}"
    superuser = {"username": "postgres", "password": auth.superuser_password}
    replication = {"username": "replicator", "password": auth.replication_password}
    return {
        "scope": member.shard,
        "namespace": "/elearn/",
        "name": member.name,
        "log": {"level": os.environ.get("ELEARN_PATRONI_LOG_LEVEL", "WARNING")},
        "restapi": {"listen": f"127.0.0.1:{member.rest_port}", "connect_address": f"127.0.0.1:{member.rest_port}"},
        "etcd3": {"hosts": [member.etcd]},
        "bootstrap": {
            "dcs": {
                "ttl": TTL_S, "loop_wait": LOOP_WAIT_S, "retry_timeout": RETRY_TIMEOUT_S,
                "maximum_lag_on_failover": MAX_LAG_ON_FAILOVER,
                "synchronous_mode": synchronous, "synchronous_mode_strict": False,
                "postgresql": {"use_pg_rewind": True, "use_slots": True, "parameters": SERVER_PARAMETERS},
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, {"auth": "trust"}],
            "pg_hba": PG_HBA,
        },
        "postgresql": {
            "listen": local,
            "connect_address": local,
            "data_dir": str(member.data_dir),
            "bin_dir": str(bin_dir),
            "pgpass": str(member.data_dir.parent / f".pgpass-{member.name}"),
            "authentication": {"superuser": superuser, "replication": replication, "rewind": superuser},
            "pg_hba": PG_HBA,
            "basebackup": [{"checkpoint": "fast"}],
            # An old primary that cannot be rewound is cloned again rather than left out of the shard.
            "remove_data_directory_on_rewind_failure": True,
            "remove_data_directory_on_diverged_timelines": True,
            "parameters": {
                "unix_socket_directories": str(member.sockets),
                "logging_collector": "on",
                "log_directory": str(member.log_dir),
                "log_filename": f"{member.shard}-{member.name.rsplit('_', 1)[-1]}.log",
                "log_file_mode": "0644",
                "log_min_messages": "warning",
                "log_line_prefix": "%m [%p] %q%u@%d ",
                "ssl": "on",
                "ssl_cert_file": str(auth.cert),
                "ssl_key_file": str(auth.key),
                "ssl_ca_file": str(auth.ca),
                "password_encryption": "scram-sha-256",
            },
        },
        "watchdog": {"mode": "off"},
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
    }


def write(member: Member, bin_dir: pathlib.Path, path: pathlib.Path, auth: NodeAuth, synchronous: bool = True
          ) -> None:
    """The file holds passwords: it is made 0600 before they are written."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(config(member, bin_dir, auth, synchronous), indent=2) + "\n")
