"""`make bench-scale`: does a call cost more as the data grows? Seeds 1x, 10x, 100x the default sample data
(`elearn seed`'s counts, through the batch methods; content items and preferences left out: no measured call
reads them) and at each size measures p50/p99 of the main reads and writes through the gateway, and the import
rate of the seed's batch phases. Prints one table of cost against size, each figure also as a ratio to 1x.
The factors are a flag (`--factors 1,10`), as 100x takes long on a small machine.
"""
from __future__ import annotations

import argparse
import asyncio
import pathlib
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import grpc
import psycopg2

from benchmarks.measure import Figures, drive
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.enrollments.v1 import enrollments_service_pb2 as enrollments_pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as enrollments_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from elearning.users.v1 import users_service_pb2_grpc as users_grpc
from launcher.layout import Layout
from launcher.seed import Seeder
from launcher.seed_plan import Counts
from launcher.target import OPERATOR_ID, OPERATOR_TTL_S
from shared.auth.client import token_source, with_token
from shared.auth.tokens import user_token
from shared.channels import open_aio_channel, open_channel
from shared.settings import TlsSettings, load_settings

DEFAULT = Counts(content_per_lesson=0, preferences=0)
SCALED = ("students", "instructors", "courses", "enrollments", "payments")
PAGE = 20
CONCURRENCY = 4


@dataclass(frozen=True)
class Sample:
    """IDs to call with, read from the shards' primaries (a benchmark may look; the seed never writes SQL)."""

    students: list[int]
    courses: list[int]
    enrolled: list[int]  # students with an enrollment
    progress: list[tuple[int, int]]  # (enrollment, lesson of its course)


def sample(layout: Layout, per_shard: int = 300) -> Sample:
    students, courses, enrolled, progress = [], [], [], []
    for shard in ("na", "eu", "apac"):
        with psycopg2.connect(layout.pg_dsn(layout.pg_port(shard, "primary"))) as conn, conn.cursor() as cur:
            cur.execute("SELECT id FROM users WHERE role = 'STUDENT' ORDER BY random() LIMIT %s", (per_shard,))
            students += [r[0] for r in cur.fetchall()]
            cur.execute("SELECT id FROM courses WHERE state = 'PUBLISHED' ORDER BY random() LIMIT %s", (per_shard,))
            courses += [r[0] for r in cur.fetchall()]
            cur.execute("SELECT DISTINCT student_id FROM enrollments LIMIT %s", (per_shard,))
            enrolled += [r[0] for r in cur.fetchall()]
            cur.execute("SELECT e.id, r.lesson_id FROM enrollments e JOIN course_lesson_refs r "
                        "ON r.course_id = e.course_id WHERE e.state <> 'CANCELLED' ORDER BY random() LIMIT %s",
                        (per_shard,))
            progress += cur.fetchall()
    return Sample(students, courses, enrolled, progress)


def operator_token(layout: Layout) -> str:
    """An operator's admin token from the cluster's signing key (every call is authenticated; an admin may
    read and write any student's data, as the seed and the measured calls need)."""
    return user_token(layout.auth_dir, OPERATOR_ID, "ADMIN", ttl_s=OPERATOR_TTL_S)


def seed_to(gateway: str, layout: Layout, factor: int, already: int, seed: int) -> tuple[float, dict]:
    """Add (factor - already) x the default data with a seed of its own; returns (seconds, imported)."""
    extra = factor - already
    counts = replace(DEFAULT, **{name: getattr(DEFAULT, name) * extra for name in SCALED})
    shard_map = load_settings("users", {"ELEARN_CONFIG": str(layout.topology_file)}).shard_map
    with with_token(open_channel(gateway, layout.client_tls()), token_source(operator_token(layout))) as channel:
        result = Seeder(channel, shard_map, counts, seed, with_content=False).run()
    return result.seconds, result.imported


def deep_page_token(gateway: str, tls: TlsSettings | None, token: str, depth: float = 0.9) -> tuple[str, int]:
    """The token of the page `depth` of the way through ListCourses, and its page number."""
    tokens = [""]
    with with_token(open_channel(gateway, tls), token_source(token)) as channel:
        stub = courses_grpc.CourseServiceStub(channel)
        while True:
            page = stub.ListCourses(courses_pb.ListCoursesRequest(page_size=PAGE, page_token=tokens[-1]), timeout=30)
            if not page.next_page_token:
                break
            tokens.append(page.next_page_token)
    index = int(depth * (len(tokens) - 1))
    return tokens[index], index + 1


def calls(channel: grpc.aio.Channel, ids: Sample, deep_token: str, token: str
          ) -> dict[str, Callable[[int], Awaitable]]:
    users = users_grpc.UserServiceStub(channel)
    courses = courses_grpc.CourseServiceStub(channel)
    enrollments = enrollments_grpc.EnrollmentServiceStub(channel)
    rng = random.Random(18)
    auth = (("authorization", f"Bearer {token}"),)
    strong = (*auth, ("x-consistency", "strong"))  # a write's own read of its shard, as a client after it would

    def pick(values: list):
        return values[rng.randrange(len(values))]

    return {
        "GetUser": lambda i: users.GetUser(users_pb.GetUserRequest(id=pick(ids.students)), timeout=10, metadata=auth),
        "ListCourses, first page": lambda i: courses.ListCourses(
            courses_pb.ListCoursesRequest(page_size=PAGE), timeout=10, metadata=auth),
        "ListCourses, deep page": lambda i: courses.ListCourses(
            courses_pb.ListCoursesRequest(page_size=PAGE, page_token=deep_token), timeout=10, metadata=auth),
        "ListEnrollments": lambda i: enrollments.ListEnrollments(
            enrollments_pb.ListEnrollmentsRequest(student_id=pick(ids.enrolled), page_size=PAGE), timeout=10,
            metadata=auth),
        "GetCourseStatistics": lambda i: courses.GetCourseStatistics(
            courses_pb.GetCourseStatisticsRequest(course_id=pick(ids.courses)), timeout=10, metadata=auth),
        "Enroll": lambda i: enrollments.Enroll(enrollments_pb.EnrollRequest(
            student_id=pick(ids.students), course_id=pick(ids.courses)), timeout=10, metadata=strong),
        "RecordLessonProgress": lambda i: enrollments.RecordLessonProgress(
            _progress(pick(ids.progress), i), timeout=10, metadata=auth),
    }


def _progress(pair: tuple[int, int], i: int) -> enrollments_pb.RecordLessonProgressRequest:
    return enrollments_pb.RecordLessonProgressRequest(enrollment_id=pair[0], lesson_id=pair[1],
                                                      watched_seconds=i % 600, position_seconds=i % 600)


async def measure_all(gateway: str, ids: Sample, deep_token: str, token: str, seconds: float,
                      tls: TlsSettings | None) -> dict[str, Figures]:
    async with open_aio_channel(gateway, tls) as channel:
        return {name: await drive(name, call, CONCURRENCY, seconds, warmup_s=0.5)
                for name, call in calls(channel, ids, deep_token, token).items()}


def table(sizes: list[tuple[int, dict[str, Figures], dict[str, float]]]) -> list[str]:
    names = list(sizes[0][1])
    head = f"{'call (p50 / p99 ms)':<26}" + "".join(f"{f'{factor}x':>22}" for factor, _, _ in sizes) + \
        f"{'p99 last/1x':>14}"
    lines = [head]
    for name in names:
        cells = "".join(f"{f'{m[name].p50_ms:.1f} / {m[name].p99_ms:.1f}':>22}" for _, m, _ in sizes)
        first, last = sizes[0][1][name].p99_ms, sizes[-1][1][name].p99_ms
        lines.append(f"{name:<26}{cells}{last / first if first else float('nan'):>14.2f}")
    for key in sizes[0][2]:
        cells = "".join(f"{info[key]:>22,.0f}" for _, _, info in sizes)
        lines.append(f"{key:<26}{cells}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=".elearn/bench-scale", help="the local cluster to fill and measure")
    parser.add_argument("--factors", default="1,10,100", help="data sizes, as multiples of the default seed")
    parser.add_argument("--seconds", type=float, default=3.0, help="per call and size")
    parser.add_argument("--seed", type=int, default=1800)
    args = parser.parse_args(argv)
    factors = sorted({int(f) for f in args.factors.split(",") if f.strip()})
    layout = Layout.load(pathlib.Path(args.data_dir).resolve())
    gateway = f"{layout.ports.host}:{layout.ports.gateway}"
    sizes, already = [], 0
    for factor in factors:
        began = time.monotonic()
        seconds, imported = seed_to(gateway, layout, factor, already, args.seed + factor)
        already = factor
        info = {f"import {phase} rows/s": rows / spent for phase, (rows, spent) in imported.items() if spent}
        info["seed seconds"] = seconds
        ids = sample(layout)
        deep, page = deep_page_token(gateway, layout.client_tls(), operator_token(layout))
        info["deep page number"] = page
        measured = asyncio.run(measure_all(gateway, ids, deep, operator_token(layout), args.seconds,
                                           layout.client_tls()))
        sizes.append((factor, measured, info))
        print(f"{factor}x: seeded in {seconds:.0f} s, measured in {time.monotonic() - began - seconds:.0f} s; "
              + ", ".join(f"{name} p99 {m.p99_ms:.1f} ms" for name, m in measured.items()), flush=True)
    for line in table(sizes):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
