"""`make bench`: the platform's hottest write (RecordLessonProgress, no password hashing) through the gateway and
direct to the enrollments service, beside pgbench's raw one-row INSERT on the same shard primary, at
concurrency 8 and 32. Prints rates, p50 and p99, and the ratios; the last line is `gateway/pgbench = R` at the
best concurrency. Beside them, the floor of Python gRPC on the same machine (`benchmarks.grpc_floor`: an empty
server, and an empty proxy in front of it), which no gateway written with it can beat. Run against a local
cluster (`elearn up`), which `make bench` boots and stops.
"""
from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys
import uuid


from benchmarks import grpc_floor, pgbench
from benchmarks.measure import Figures, drive, side_by_side
from launcher.layout import Layout
from shared.channels import open_aio_channel, open_channel
from shared.settings import TlsSettings
from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as pb_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from elearning.users.v1 import users_service_pb2_grpc as users_grpc

REGION = "EUROPE"  # every student on the eu shard, so pgbench runs on the same primary


def setup(gateway: str, students: int, tls: TlsSettings | None) -> list[tuple[int, list[int]]]:
    """Enrollments of `students` EU students in one published course of 40 lessons."""
    tag = uuid.uuid4().hex[:8]
    with open_channel(gateway, tls) as channel:
        users, courses = users_grpc.UserServiceStub(channel), courses_grpc.CourseServiceStub(channel)
        enrollments = pb_grpc.EnrollmentServiceStub(channel)
        teacher = users.CreateUser(users_pb.CreateUserRequest(user=users_pb.User(
            email=f"bench-teacher-{tag}@example.com", full_name="Bench Teacher", region=common_pb2.EUROPE,
            role=users_pb.INSTRUCTOR)), timeout=10)
        category = courses.CreateCategory(courses_pb.CreateCategoryRequest(category=courses_pb.Category(
            name=f"Bench {tag}", slug=f"bench-{tag}")), timeout=10)
        course = courses.CreateCourse(courses_pb.CreateCourseRequest(course=courses_pb.Course(
            instructor_id=teacher.id, category_id=category.id, title="Bench course", language="en",
            level=courses_pb.BEGINNER, price=common_pb2.Money(currency_code="EUR", amount="0.00"),
            modules=[courses_pb.Module(title=f"M{m}", lessons=[courses_pb.Lesson(
                title=f"L{m}.{n}", kind=courses_pb.VIDEO, duration_seconds=60) for n in range(8)])
                for m in range(5)])), timeout=10)
        courses.PublishCourse(courses_pb.PublishCourseRequest(id=course.id), timeout=10)
        lessons = [l.id for m in course.modules for l in m.lessons]
        made = []
        for i in range(students):
            student = users.CreateUser(users_pb.CreateUserRequest(user=users_pb.User(
                email=f"bench-{tag}-{i}@example.com", full_name=f"Bench {i}", region=common_pb2.EUROPE)),
                timeout=10)
            made.append((enrollments.Enroll(pb.EnrollRequest(student_id=student.id, course_id=course.id),
                                            timeout=10).id, lessons))
        return made


async def progress(address: str, label: str, targets, concurrency: int, seconds: float,
                   tls: TlsSettings | None) -> Figures:
    async with open_aio_channel(address, tls) as channel:
        stub = pb_grpc.EnrollmentServiceStub(channel)

        async def call(i: int):
            enrollment, lessons = targets[i % len(targets)]
            lesson = lessons[(i // len(targets)) % len(lessons)]
            return await stub.RecordLessonProgress(pb.RecordLessonProgressRequest(
                enrollment_id=enrollment, lesson_id=lesson, watched_seconds=i % 600, position_seconds=i % 600),
                timeout=5)

        return await drive(label, call, concurrency, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=".elearn/bench", help="the local cluster to measure")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    layout = Layout.load(pathlib.Path(args.data_dir).resolve())
    gateway = f"{layout.ports.host}:{layout.ports.gateway}"
    direct = f"{layout.ports.host}:{layout.ports.service('enrollments')}"
    eu_primary = layout.pg_port("eu", "primary")  # whichever node is the primary now
    tls = layout.client_tls()
    targets = setup(gateway, 64, tls)
    print(f"RecordLessonProgress on {len(targets)} EU enrollments; {args.seconds:.0f} s per measurement, taken as "
          "two halves in the order A B C C B A, each after a 1 s warm-up")
    best = None
    for concurrency in (8, 32):
        with grpc_floor.started() as empty_server, grpc_floor.started(empty_server) as empty_proxy:
            runs = {
                "pgbench": lambda s: pgbench.run(eu_primary, concurrency, s, layout.pg_auth()),
                "direct": lambda s: asyncio.run(progress(direct, "direct to enrollments", targets, concurrency, s,
                                                         tls)),
                "gateway": lambda s: asyncio.run(progress(gateway, "through the gateway", targets, concurrency, s,
                                                          tls)),
                "empty server": lambda s: asyncio.run(grpc_floor.echo(empty_server, "floor: empty server",
                                                                      concurrency, s)),
                "empty proxy": lambda s: asyncio.run(grpc_floor.echo(empty_proxy, "floor: empty proxy + server",
                                                                     concurrency, s)),
            }
            measured = side_by_side(runs, args.seconds)
        for figures in measured.values():
            print(figures.line())
        raw, straight, via, empty_proxy = (measured[k] for k in ("pgbench", "direct", "gateway", "empty proxy"))
        ratio = via.rate / raw.rate if raw.rate else 0.0
        print(f"c={concurrency}: direct/pgbench = {straight.rate / raw.rate:.3f}, gateway/pgbench = {ratio:.3f}, "
              f"gateway/direct = {via.rate / straight.rate:.3f}, gateway p99 {via.p99_ms:.1f} ms; "
              f"no-work floor: empty proxy/pgbench = {empty_proxy.rate / raw.rate:.3f}, "
              f"empty proxy p99 {empty_proxy.p99_ms:.1f} ms")
        if best is None or ratio > best[1]:
            best = (concurrency, ratio)
    print(f"gateway/pgbench = {best[1]:.3f}  (best concurrency c={best[0]}; target >= 0.15 with p99 < 25 ms at c=32)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
