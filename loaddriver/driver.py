"""Run the load: workers share a few channels to the gateway and one session token, draw calls from the mix
(and a share of invalid ones), pace themselves to a target rate, and record every call: a CSV row written at
once and a count in the streaming statistics, so memory does not grow with the number of calls."""
from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from elearning.courses.v1 import courses_service_pb2 as courses_pb
from loaddriver import invalid
from loaddriver.calls import Stubs, execute
from loaddriver.data import DataMaker
from loaddriver.export import CallWriter
from loaddriver.figures import DEFAULT_MIN_RATE_RATIO
from loaddriver.mix import MIX, Context
from loaddriver.pacing import Pacer
from loaddriver.plan import Planned
from loaddriver.pool import Pool
from loaddriver.progress import Progress
from loaddriver.session import SessionToken
from loaddriver.stats import RunStats
from shared.auth.client import token_source, with_token
from shared.channels import open_channel
from shared.settings import TlsSettings

CONTENT_SERVICE = "elearning.content.v1.ContentService"
CATEGORIES = ("Data & AI", "Programming", "Cloud", "Design", "Business", "Languages", "Science", "Security")


class GatewayUnreachable(RuntimeError):
    pass


@dataclass(frozen=True)
class Options:
    gateway: str = "127.0.0.1:50051"
    tls: TlsSettings | None = None  # the deployment's CA and client certificate; None: plaintext
    concurrency: int = 16
    connections: int = 4
    total: int | None = None
    duration_s: float | None = None
    rps: float = 0.0
    ramp_s: float = 0.0
    warmup_s: float = 0.0
    deadline_s: float = 10.0
    seed: int = 1
    invalid_ratio: float = 0.1
    min_rate_ratio: float = DEFAULT_MIN_RATE_RATIO
    name: str = "load"
    tags: tuple[str, ...] = field(default_factory=tuple)
    batch_size: int = 1


def versions() -> dict[str, str]:
    found = {"python": ".".join(map(str, __import__("sys").version_info[:3]))}
    for package in ("grpcio", "protobuf", "elearn-data"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "unknown"
    return found


def _cpu_seconds() -> float:
    """User and system CPU time of this process so far, every thread included."""
    times = os.times()
    return times.user + times.system


class Run:
    """One run: `execute` drives it, writes each call to `csv_path` and counts it in `stats`."""

    def __init__(self, options: Options, shards: dict[str, list[str]], csv_path, token: str | None = None):
        self.options = options  # the token stays out of them: they are written into the report
        self.shards = shards
        self.csv_path = csv_path
        self.pool = Pool()
        self.session = SessionToken()
        self.stats = RunStats()
        self.writer: CallWriter | None = None  # opened when the measured run starts
        self.calls_made = 0
        self.stop = threading.Event()
        self.nonce = uuid.uuid4().hex[:10]
        self._ids = itertools.count()
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self.channels = [with_token(open_channel(options.gateway, options.tls), token_source(token))
                         for _ in range(max(1, options.connections))]
        self.progress = Progress(options.total, options.duration_s)

    def new_request_id(self) -> str:
        return f"load-{self.nonce}-{next(self._ids)}"

    def _connect(self) -> bool:
        """Wait for the gateway; True when the content service is SERVING behind it."""
        try:
            grpc.channel_ready_future(self.channels[0]).result(timeout=10)
        except grpc.FutureTimeoutError:
            raise GatewayUnreachable(f"no gateway answers at {self.options.gateway}") from None
        health = health_pb2_grpc.HealthStub(self.channels[0])
        try:
            reply = health.Check(health_pb2.HealthCheckRequest(service=CONTENT_SERVICE), timeout=3)
            return reply.status == health_pb2.HealthCheckResponse.SERVING
        except grpc.RpcError:
            return False

    def _setup(self) -> None:
        """Categories the courses need (reference data, not part of the measured mix)."""
        courses = Stubs(self.channels[0]).by_service["courses"]
        for n, name in enumerate(CATEGORIES):
            category, call = courses.CreateCategory.with_call(courses_pb.CreateCategoryRequest(
                category=courses_pb.Category(name=f"{name} {self.nonce}", slug=f"load-{self.nonce}-{n}"),
                request_id=f"load-{self.nonce}-category-{n}"), timeout=self.options.deadline_s,
                metadata=self.session.metadata())
            self.session.merge_trailers(call.trailing_metadata() or ())
            self.pool.add("categories", category.id)

    def _next_seq(self, elapsed: float) -> int | None:
        seq = next(self._seq)
        o = self.options
        if o.total is not None and seq >= o.total:
            return None
        if o.duration_s is not None and elapsed >= o.warmup_s + o.duration_s:
            return None
        return seq

    def _choose(self, ctx: Context) -> Planned:
        rng = ctx.data.rng
        if rng.random() < self.options.invalid_ratio:
            return rng.choice(list(invalid.KINDS.values()))(ctx)
        weights = [w for w, _op in MIX]
        return rng.choices([op for _w, op in MIX], weights=weights)[0](ctx)

    def _worker(self, worker: int, ctx: Context, pacer: Pacer, started: float) -> None:
        stubs = Stubs(self.channels[worker % len(self.channels)])
        follow_up: Planned | None = None
        while not self.stop.is_set():
            seq = self._next_seq(time.perf_counter() - started)
            if seq is None:
                return
            scheduled = pacer.wait(self.stop)
            planned = follow_up or self._choose(ctx)
            follow_up = None
            warmup = time.perf_counter() - started < self.options.warmup_s
            record, response = execute(planned, stubs, self.session, self.options.deadline_s, started, seq, worker,
                                       warmup, scheduled)
            with self._lock:
                self.writer.write(record)
                self.stats.add(record)
                self.calls_made += 1
            self.progress.record(record["outcome"])
            if response is not None and record["code"] == "OK" and planned.on_ok:
                follow_up = planned.on_ok(response)

    def execute(self) -> dict:
        content_enabled = self._connect()
        self._setup()
        self.writer = CallWriter(self.csv_path)
        # Each worker's data maker (Fakers of six locales) takes a while to build: before the clock starts, or a
        # short --duration ends before the first call.
        contexts = [Context(DataMaker(self.options.seed, worker), self.pool, self.new_request_id, content_enabled,
                            self.options.batch_size) for worker in range(self.options.concurrency)]
        started_at = datetime.now(UTC)
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        pacer = Pacer(self.options.rps, self.options.ramp_s, start=started)
        threads = [threading.Thread(target=self._worker, args=(worker, ctx, pacer, started), name=f"load-{worker}",
                                    daemon=True) for worker, ctx in enumerate(contexts)]
        self.progress.start()
        for thread in threads:
            thread.start()
        interrupted = False
        try:
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(timeout=0.2)
        except KeyboardInterrupt:
            interrupted = True
            self.stop.set()
            for thread in threads:
                thread.join(timeout=self.options.deadline_s + 1)
        elapsed = time.perf_counter() - started
        cpu_s = _cpu_seconds() - cpu_before
        self.progress.finish()
        self.writer.close()
        for channel in self.channels:
            channel.close()
        return {
            "name": self.options.name, "tags": list(self.options.tags), "started_at": started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "duration_s": max(elapsed - self.options.warmup_s, 1e-9), "interrupted": interrupted,
            "options": {**asdict(self.options), "tags": list(self.options.tags), "content": content_enabled},
            "versions": versions(), "cluster": {"gateway": self.options.gateway, "shards": self.shards},
            "session": {"token": self.session.text(), "malformed_trailers": self.session.malformed},
            "driver": {"cpu_s": cpu_s, "calls": self.calls_made, "wall_s": elapsed},
        }
