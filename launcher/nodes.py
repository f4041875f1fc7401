"""The PostgreSQL shards of the local cluster: one etcd, and per shard two nodes, each run by its own Patroni
(kept running by `launcher.keeper`). Start, wait for a leader and a synchronous standby, switch over, fail
over, stop, and report Patroni's view. Patroni alone promotes, demotes, rewinds and re-clones nodes."""
from __future__ import annotations

import os
import pathlib
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from launcher import patroni, patroni_config, pg_auth, postgres
from launcher.certs import Authority
from launcher.layout import NODES, SHARD_NAMES, Layout
from launcher.patroni import PatroniError
from launcher.processes import ProcessTable, wait_for_port
from launcher.replication import node_facts
from shared.pg.admin import AdminError, first_line

# A node whose Patroni and postmaster both died stays down until its shard has another leader, or this long.
NODE_DOWN_S = patroni_config.TTL_S + 10
READY_TIMEOUT_S = 180
MAINTENANCE_SEEN_S = 30.0  # several Patroni loops


@dataclass
class Handover:
    """What `elearn switchover` / `elearn failover` did: the leader before and after, and how long it took."""
    shard: str
    old_leader: str
    new_leader: str
    leader_after_s: float    # until the new leader accepted writes
    healthy_after_s: float   # until the old leader streamed again as the synchronous standby (sync mode)


class Nodes:
    def __init__(self, layout: Layout, processes: ProcessTable, say: Callable[[str], None] = print):
        self.layout, self.processes, self.say = layout, processes, say

    # ---- processes -----------------------------------------------------------------------------
    def process(self, shard: str, node: str) -> str:
        return f"patroni-{self.layout.member(shard, node)}"

    def running(self) -> dict[str, bool]:
        parts = {"etcd": self.processes.alive("etcd") is not None}
        parts.update({f"postgres {s} {n}": self.processes.alive(self.process(s, n)) is not None
                      for s in SHARD_NAMES for n in NODES})
        return parts

    def start(self, started: list[str]) -> None:
        """etcd, then every node's Patroni; returns once each shard has a leader (and, in sync mode, a
        synchronous standby) and its database exists."""
        layout = self.layout
        client, peer = layout.etcd_ports
        if not self.processes.alive("etcd"):
            self.processes.start(patroni.etcd_spec(layout.etcd_dir, client, peer), {})
            if not wait_for_port(client, 30):
                raise PatroniError("etcd did not start:\n" + self.processes.log_tail("etcd"))
            started.append("etcd")
        for folder in (layout.pg_root, layout.socket_dir, layout.pg_root / "logs", layout.patroni_dir,
                       layout.pg_tls_dir):
            postgres.own(folder)
        pg_auth.write_passfile(layout.passfile, {pg_auth.SUPERUSER: self._password(pg_auth.SUPERUSER)})
        for node in NODES:  # node "a" first: on a new cluster it usually bootstraps the shards
            for shard in SHARD_NAMES:
                if self.start_node(shard, node):
                    started.append(f"postgres {shard} {node}")
        for shard in SHARD_NAMES:
            view = self.wait_ready(shard)
            postgres.create_database(layout.pg_dsn(patroni.leader(view)["port"], "postgres"))
            self.apply_replication_mode(shard)

    def start_node(self, shard: str, node: str) -> bool:
        """Start the node's Patroni (it starts, or first bootstraps or clones, its PostgreSQL)."""
        if self.processes.alive(self.process(shard, node)):
            return False
        layout = self.layout
        member = patroni_config.Member(
            shard=shard, name=layout.member(shard, node), pg_port=layout.node_port(shard, node),
            rest_port=layout.rest_port(shard, node), data_dir=layout.node_dir(shard, node),
            sockets=layout.socket_dir, log_dir=layout.pg_root / "logs", etcd=f"127.0.0.1:{layout.etcd_ports[0]}")
        config = layout.patroni_dir / f"{member.name}.yml"
        cert, key, ca = pg_auth.place_server_certificate(Authority(layout.tls_dir), member.name, layout.pg_tls_dir)
        auth = patroni_config.NodeAuth(superuser_password=self._password(pg_auth.SUPERUSER),
                                       replication_password=self._password(pg_auth.REPLICATION),
                                       cert=cert, key=key, ca=ca)
        patroni_config.write(member, postgres.bin_dir(), config, auth, synchronous=layout.replication == "sync")
        pg_auth.give_to_postgres(config, 0o600)  # it holds the passwords
        peers = [layout.rest_port(shard, n) for n in NODES if n != node]
        self.processes.start(patroni.keeper_spec(self.process(shard, node), member.name, config, member.data_dir,
                                                 member.rest_port, peers, NODE_DOWN_S), {})
        return True

    def stop_node(self, shard: str, node: str) -> bool:
        """Stop the node's Patroni, which stops its PostgreSQL first (a leader hands its key over)."""
        return self.processes.stop(self.process(shard, node), timeout_s=90)

    def kill_node(self, shard: str, role: str) -> str:
        """SIGKILL the Patroni, the postmaster and every PostgreSQL process of the node that has `role` now, as
        if its host died (a backend outlives its postmaster for a moment and could still commit). The keeper
        stays, as the host's init would, and brings the node back as launcher.keeper says."""
        node = self.layout.node(shard, role)
        config = str(self.layout.patroni_dir / f"{self.layout.member(shard, node)}.yml")
        postmaster = postgres.postmaster_pid(self.layout.node_dir(shard, node))
        server = [postmaster, *_children(postmaster)] if postmaster else []
        for pid in [*server, *_pids_running(config, "bin/patroni")]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return node

    def stop(self) -> list[str]:
        """Every node (replicas first, so no leader key moves), any postmaster left by a killed Patroni, etcd."""
        stopped = []
        leaders = {s: self.layout.primary_node(s) for s in SHARD_NAMES}
        for leading in (False, True):
            names = {self.process(s, n): f"postgres {s} {n}" for s in SHARD_NAMES for n in NODES
                     if (n == leaders[s]) == leading}
            stopped += [names[name] for name in self.processes.stop_all(list(names), timeout_s=90)]
        for shard in SHARD_NAMES:
            for node in NODES:
                postgres.stop(self.layout.node_dir(shard, node), mode="fast", timeout_s=30)
        if self.processes.stop("etcd"):
            stopped.append("etcd")
        return stopped

    def _password(self, role: str) -> str:
        return pg_auth.password(self.layout.secrets_dir, f"pg-{role}")

    # ---- Patroni's view ------------------------------------------------------------------------
    def view(self, shard: str) -> dict | None:
        return patroni.cluster_view(self.layout.rest_ports(shard))

    def ready(self, view: dict | None) -> bool:
        """A running leader, and in sync mode a streaming synchronous standby."""
        return patroni.leader(view) is not None and (self.layout.replication != "sync"
                                                     or patroni.sync_standby(view) is not None)

    def wait_ready(self, shard: str, timeout_s: float = READY_TIMEOUT_S) -> dict:
        give_up = time.monotonic() + timeout_s
        while time.monotonic() < give_up:
            view = self.view(shard)
            if self.ready(view):
                return view
            time.sleep(0.2)
        logs = "\n".join(self.processes.log_tail(self.process(shard, n), 5) for n in NODES)
        raise PatroniError(f"shard {shard}: no leader with a synchronous standby after {timeout_s:g} s; "
                           f"Patroni's view: {self.view(shard)}\n{logs}")

    def apply_replication_mode(self, shard: str) -> None:
        """sync: a commit waits for the standby while there is one (Patroni drops a lost standby from the
        synchronous set instead of stalling the shard); async: commits never wait."""
        wanted = self.layout.replication == "sync"
        ports = self.layout.rest_ports(shard)
        if bool(patroni.shard_config(ports).get("synchronous_mode")) != wanted:
            patroni.request(ports, "/config", {"synchronous_mode": wanted}, method="PATCH")

    def set_maintenance(self, shard: str, on: bool) -> None:
        """Patroni's maintenance mode (`patronictl pause`): it changes nothing on the shard's nodes meanwhile,
        e.g. leaves a replica's paused WAL replay paused (it resumes one at its next loop otherwise)."""
        ports = self.layout.rest_ports(shard)
        patroni.request(ports, "/config", {"pause": on}, method="PATCH")
        # Returns once every member's loop has seen it: until then a member may still resume a paused replay.
        give_up = time.monotonic() + MAINTENANCE_SEEN_S
        while not all(patroni.sees_pause(port, on) for port in ports):
            if time.monotonic() > give_up:
                raise PatroniError(f"shard {shard}: maintenance mode {'on' if on else 'off'} not seen by every "
                                   f"member after {MAINTENANCE_SEEN_S:.0f} s")
            time.sleep(0.1)

    # ---- planned and forced changes of leader --------------------------------------------------
    def switchover(self, shard: str) -> Handover:
        """A planned change of leader: Patroni stops the old leader cleanly, promotes the synchronous standby,
        and the old leader rejoins as its replica."""
        old = self._leader_member(shard)
        return self._hand_over(shard, old, "/switchover", {"leader": old})

    def failover(self, shard: str) -> Handover:
        """Promote the other node now, whether or not the leader is alive (Patroni refuses a candidate that
        could have lost acknowledged writes)."""
        holder = patroni.leader(self.view(shard))
        old = holder["name"] if holder else self.layout.member(shard, self.layout.primary_node(shard))
        candidate = next(self.layout.member(shard, n) for n in NODES if self.layout.member(shard, n) != old)
        return self._hand_over(shard, old, "/failover", {"candidate": candidate})

    def _leader_member(self, shard: str) -> str:
        holder = patroni.leader(self.view(shard))
        if holder is None:
            raise PatroniError(f"shard {shard} has no running leader to switch over from; "
                               f"use `elearn failover --shard {shard}`")
        return holder["name"]

    def _hand_over(self, shard: str, old: str, path: str, body: dict) -> Handover:
        began = time.monotonic()
        reply = patroni.request(self.layout.rest_ports(shard), path, body)
        self.say(f"  {path.strip('/')} of shard {shard} (leader {old}): {reply}")
        give_up = began + READY_TIMEOUT_S
        new, leader_after = None, None
        while time.monotonic() < give_up:
            view = self.view(shard)
            holder = patroni.leader(view)
            if holder and holder["name"] != old:
                new = holder["name"]
                leader_after = leader_after or time.monotonic() - began
                if self.ready(view):
                    return Handover(shard, old, new, leader_after, time.monotonic() - began)
            time.sleep(0.1)
        raise PatroniError(f"shard {shard}: {path.strip('/')} did not complete in {READY_TIMEOUT_S} s "
                           f"(leader now {new or old}); Patroni's view: {self.view(shard)}")

    # ---- status --------------------------------------------------------------------------------
    def status_rows(self, shard: str) -> list[dict]:
        """The primary's row, then the replica's: the node's own facts and Patroni's view of it."""
        view = self.view(shard) or {}
        members = {m["name"]: m for m in view.get("members", [])}
        primary_node = self.layout.primary_node(shard)
        rows, primary = [], None
        for node in (primary_node, *[n for n in NODES if n != primary_node]):
            port, name = self.layout.node_port(shard, node), self.layout.member(shard, node)
            role = "primary" if node == primary_node else "replica"
            member = members.get(name, {})
            row = {"component": f"postgres {shard} {role}", "pid": self.processes.alive(self.process(shard, node)),
                   "address": f"127.0.0.1:{port}", "state": "stopped", "health": "-", "member": name,
                   "patroni_role": member.get("role"), "patroni_state": member.get("state"),
                   "timeline": member.get("timeline")}
            if postgres.is_running(self.layout.node_dir(shard, node)):
                row["state"] = "running"
                try:
                    probe, facts = node_facts(self.layout.pg_dsn(port), primary)
                except AdminError as exc:
                    row["health"] = f"unreachable: {first_line(exc)}"
                else:
                    primary = probe if facts["role"] == "primary" else primary
                    row.update(facts)
            row["health"] = f"patroni {describe(member)}; {row['health']}"
            rows.append(row)
        return rows


def describe(member: dict) -> str:
    """Patroni's view of one member in a few words: "leader, timeline 3" / "sync_standby streaming, lag 0 B"."""
    if not member:
        return "member unknown to Patroni"
    text = f"{member.get('role')} {member.get('state')}, timeline {member.get('timeline', '?')}"
    if member.get("role") != "leader":
        text += f", lag {member.get('lag', 'unknown')} B"
    return text


def _children(parent: int) -> list[int]:
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _pids_running(*words: str) -> list[int]:
    """PIDs whose command line holds every one of `words`, leaving out the keeper (whose command line holds
    Patroni's too)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if all(word in cmdline for word in words) and "launcher.keeper" not in cmdline and "setpriv" not in cmdline:
            found.append(int(entry.name))
    return found
