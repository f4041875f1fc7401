"""The `elearn` command: up, down, status, switchover, failover, migrate, seed, load and health."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys

from launcher import auth_cli, health, pg_roles, seed_cli
from launcher.cluster import Cluster, ClusterError
from launcher.components import SERVICES
from launcher.layout import REPLICATION_MODES, SHARD_NAMES, Layout, default_data_dir
from launcher.migrate import MigrationError, migrate_all
from launcher.patroni import PatroniError
from launcher.postgres import PostgresError
from launcher.prometheus import PrometheusMissing
from loaddriver import cli as load_cli
from shared.pg.login import PG_SERVICES, role_of
from shared.settings import LocalPorts, SettingsError, parse_shard_map, read_topology


def _layout(args, *, creating: bool = False) -> Layout | None:
    data_dir = pathlib.Path(args.data_dir).resolve() if args.data_dir else default_data_dir()
    layout = Layout.load(data_dir)
    if layout is None and creating:
        defaults = LocalPorts()
        offset = args.port_offset
        ports = LocalPorts(
            gateway=args.gateway_port or defaults.gateway + offset,
            service_base=defaults.service_base + offset, pg_primary_base=defaults.pg_primary_base + offset,
            pg_replica_base=defaults.pg_replica_base + offset, mongo=defaults.mongo + offset)
        layout = Layout.create(data_dir, ports, instances=getattr(args, "instances", None) or 1)
    return layout


def cmd_up(args) -> int:
    layout = _layout(args, creating=True)
    mode_changed = bool(args.replication) and args.replication != layout.replication
    if mode_changed:
        layout = dataclasses.replace(layout, replication=args.replication)
    if args.insecure != layout.insecure:
        if any(Cluster(layout).running_parts().values()):
            raise ClusterError(f"the cluster runs with {'plaintext' if layout.insecure else 'TLS'}; "
                               f"`elearn down` first to switch to {'plaintext' if args.insecure else 'TLS'}")
        layout = dataclasses.replace(layout, insecure=args.insecure)
    if args.instances and args.instances != layout.instances:
        if Cluster(layout).running_parts().get(SERVICES[0].name):
            raise ClusterError(f"the cluster runs {layout.instances} instance(s) per service; run `elearn down` "
                               f"first to change it to {args.instances}")
        layout = dataclasses.replace(layout, instances=args.instances)
        layout.save()
    cluster = Cluster(layout)
    print(f"elearn: starting the local cluster in {layout.data_dir}")
    result = cluster.up()
    if result.already_running and mode_changed:
        layout.save()
        for shard in SHARD_NAMES:
            cluster.apply_replication_mode(shard)
        print(f"elearn: the cluster is already running; replication is now {layout.replication}.")
    elif result.already_running:
        print("elearn: the cluster is already running; nothing changed.")
    else:
        print(f"elearn: cluster up in {result.seconds:.1f} s ({'cold' if result.cold else 'warm'} data folder); "
              f"started {len(result.started)} part(s)")
    for name, address in cluster.endpoints():
        print(f"  {name:<24} {address}")
    print(f"  {'tls':<24} " + ("off (--insecure: plaintext)" if layout.insecure
                                 else f"on; CA {layout.tls_dir / 'ca.crt'}"))
    if args.with_prometheus:
        print(f"  {'prometheus':<24} http://{cluster.up_prometheus()}/")
    return 0


def cmd_down(args) -> int:
    layout = _layout(args)
    if layout is None:
        print("elearn: no cluster in this data folder; nothing to stop.")
        return 0
    stopped = Cluster(layout).down()
    print(f"elearn: stopped {len(stopped)} part(s); data kept in {layout.data_dir}" if stopped
          else "elearn: nothing was running.")
    return 0


def cmd_status(args) -> int:
    layout = _layout(args)
    if layout is None:
        print("elearn: no cluster in this data folder (run `elearn up`).")
        return 3
    rows = Cluster(layout).status()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    else:
        print(f"{'component':<24} {'state':<10} {'pid':>7} {'restarts':>8}  {'address':<22} {'health':<12} metrics")
        for row in rows:
            print(f"{row['component']:<24} {row['state']:<10} {row['pid'] or '-':>7} {row.get('restarts', '-'):>8}  "
                  f"{row['address']:<22} {row['health']:<12} {row.get('metrics', '')}")
    return 0 if all(r["state"] == "running" for r in rows) else 1


def cmd_handover(args) -> int:
    """`elearn switchover` and `elearn failover`: Patroni's REST API does it; this reports how it went."""
    layout = _layout(args)
    if layout is None:
        print("elearn: no cluster in this data folder (run `elearn up`).")
        return 3
    cluster = Cluster(layout)
    print(f"elearn: {args.command} of shard {args.shard} ({layout.replication} replication)")
    result = cluster.switchover(args.shard) if args.command == "switchover" else cluster.failover(args.shard)
    print(f"elearn: shard {args.shard}: primary is now {result.new_leader} (was {result.old_leader}); "
          f"new leader after {result.leader_after_s:.2f} s, shard whole again after {result.healthy_after_s:.2f} s")
    return 0


def cmd_migrate(args) -> int:
    """Migrate every shard, then set the service roles' passwords from ELEARN_PG_PASSWORDS_DIR (the folder of
    the pg-<service> files) when it is set."""
    shard_map = parse_shard_map(read_topology(os.environ))
    for shard, applied in migrate_all(shard_map).items():
        print(f"{shard}: " + (", ".join(applied) if applied else "up to date"))
    passwords = pg_roles.passwords_from_env(os.environ)
    pg_roles.after_migrations(shard_map, passwords)
    if passwords:
        print(f"service roles: passwords set ({', '.join(role_of(s) for s in PG_SERVICES)})")
    return 0


def _positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 9:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number from 1 to 9")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="elearn", description="elearn-data: the local cluster and its tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_data_dir(p):
        p.add_argument("--data-dir", help="the cluster's data folder (default: $ELEARN_DATA_DIR or ./.elearn)")
        return p

    up = with_data_dir(sub.add_parser("up", help="boot the local cluster (created on first use) and return"))
    up.add_argument("--port-offset", type=int, default=0, help="add N to every default port (first use only)")
    up.add_argument("--gateway-port", type=int, default=0, help="the gateway's port (default 50051)")
    up.add_argument("--instances", type=_positive, default=0,
                    help="processes per service, each on its own port, balanced round_robin by the gateway and "
                         "the services (default 1, or what the data folder last used)")
    up.add_argument("--replication", choices=REPLICATION_MODES,
                    help="sync (the default; Patroni's synchronous_mode): a commit returns once the standby has "
                         "flushed it, so a failover loses no acknowledged write, and a lost standby is dropped "
                         "from the synchronous set; async: at once, faster, may lose the last commits")
    up.add_argument("--insecure", action="store_true",
                    help="plaintext gRPC for local experiments (default: TLS on the gateway, mutual TLS between "
                         "the gateway and the services, with certificates made in <data-dir>/tls)")
    up.add_argument("--with-prometheus", action="store_true",
                    help="also run Prometheus (Debian's package) scraping every process, with the alerting rules "
                         "of deploy/prometheus/rules.yml")
    up.set_defaults(func=cmd_up)
    with_data_dir(sub.add_parser("down", help="stop everything `up` started; keep the data")).set_defaults(
        func=cmd_down)
    status = with_data_dir(sub.add_parser("status", help="each process, and each replica's replay lag"))
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)
    for name, text in (("switchover", "planned: Patroni stops the shard's leader cleanly and promotes its "
                                      "synchronous standby; the old leader rejoins as the replica"),
                       ("failover", "forced: Patroni promotes the shard's other node now, leader alive or not "
                                    "(a dead leader is replaced by itself after its 20 s ttl anyway)")):
        over = with_data_dir(sub.add_parser(name, help=text))
        over.add_argument("--shard", required=True, choices=SHARD_NAMES)
        over.set_defaults(func=cmd_handover)
    sub.add_parser("migrate", help="apply sql/migrations to every shard primary of $ELEARN_CONFIG").set_defaults(
        func=cmd_migrate)
    load = sub.add_parser("load", help="drive concurrent RPC insertions through the gateway; write report.pdf")
    load_cli.add_arguments(load)
    load.set_defaults(func=lambda args: load_cli.run(args, load.error))
    seed = with_data_dir(sub.add_parser("seed", help="fill the cluster with sample data through the gateway"))
    seed_cli.add_arguments(seed)
    seed.set_defaults(func=seed_cli.command)
    check = with_data_dir(sub.add_parser("health", help="check every service, shard node and MongoDB; "
                                                        "non-zero exit when anything is unhealthy"))
    health.add_arguments(check)
    check.set_defaults(func=health.command)
    token = with_data_dir(sub.add_parser("token", help="print an access token signed with the data folder's key, "
                                                       "for `-H \"authorization: Bearer ...\"`"))
    auth_cli.add_token_arguments(token)
    token.set_defaults(func=auth_cli.token_command)
    rotate = with_data_dir(sub.add_parser("rotate-keys", help="sign with a new key; the previous one stays valid "
                                                              "until its tokens expire"))
    auth_cli.add_rotate_arguments(rotate)
    rotate.set_defaults(func=auth_cli.rotate_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ClusterError, PatroniError, PostgresError, MigrationError, SettingsError, PrometheusMissing) as exc:
        print(f"elearn {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"elearn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
