"""The batch write path of `make bench`: BatchRecordLessonProgress through the gateway, batches of 100 items
over enrollments on every shard, beside pgbench's one-row INSERT on one shard primary in the same minute.
Rows per second count the items written (a batch of 100 is 100 rows); p99 is per batch."""
from __future__ import annotations

import argparse
import asyncio
import pathlib
import random
import sys
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from google.protobuf import field_mask_pb2

from benchmarks import cpu_account, pgbench
from benchmarks.measure import Figures, drive, side_by_side
from elearning.common.v1 import common_pb2
from elearning.courses.v1 import courses_service_pb2 as courses_pb
from elearning.courses.v1 import courses_service_pb2_grpc as courses_grpc
from elearning.enrollments.v1 import enrollments_service_pb2 as pb
from elearning.enrollments.v1 import enrollments_service_pb2_grpc as pb_grpc
from elearning.users.v1 import users_service_pb2 as users_pb
from elearning.users.v1 import users_service_pb2_grpc as users_grpc
from launcher.layout import Layout
from shared.auth.client import with_token
from shared.auth.tokens import user_token
from shared.channels import open_aio_channel, open_channel
from shared.settings import TlsSettings

REGIONS = (common_pb2.REGION_EUROPE, common_pb2.REGION_ASIA, common_pb2.REGION_NORTH_AMERICA)  # one per shard
BATCH_SIZE = 100
CONCURRENCY = 8
# Students enrolled on each shard, 40 lessons each: 5,120 lesson rows a shard, each written about once a second
# at the rates measured here, as a platform's heartbeats spread over its students. With 16 (640 rows a shard,
# each written 8 times a second by batches that wait on each other's row locks) a shard's part cost PostgreSQL
# 2.66 ms instead of 1.89 (33 items, 8 at a time; 200 rows against 1,800): that measured a few hot rows.
STUDENTS_PER_SHARD = 128


def setup(gateway: str, students_per_shard: int, admin: str, tls: TlsSettings | None) -> list[tuple[int, list[int]]]:
    """Enrollments of students on every shard in one published course of 40 lessons."""
    tag = uuid.uuid4().hex[:8]
    with with_token(open_channel(gateway, tls), lambda: admin) as channel:
        users, courses = users_grpc.UserServiceStub(channel), courses_grpc.CourseServiceStub(channel)
        enrollments = pb_grpc.EnrollmentServiceStub(channel)
        teacher = users.CreateUser(users_pb.CreateUserRequest(user=users_pb.User(
            email=f"batch-teacher-{tag}@example.com", full_name="Batch Teacher", region=common_pb2.REGION_EUROPE,
            role=users_pb.USER_ROLE_INSTRUCTOR)), timeout=10)
        category = courses.CreateCategory(courses_pb.CreateCategoryRequest(category=courses_pb.Category(
            name=f"Batch {tag}", slug=f"batch-{tag}")), timeout=10)
        course = courses.CreateCourse(courses_pb.CreateCourseRequest(course=courses_pb.Course(
            instructor_id=teacher.id, category_id=category.id, title="Batch bench course", language="en",
            level=courses_pb.COURSE_LEVEL_BEGINNER, price=common_pb2.Money(currency_code="EUR", amount="0.00"),
            modules=[courses_pb.Module(title=f"M{m}", lessons=[courses_pb.Lesson(
                title=f"L{m}.{n}", kind=courses_pb.LESSON_KIND_VIDEO, duration_seconds=60) for n in range(8)])
                for m in range(5)])), timeout=10)
        courses.PublishCourse(courses_pb.PublishCourseRequest(id=course.id), timeout=10)
        lessons = [lesson.id for module in course.modules for lesson in module.lessons]

        def enrolled(i: int) -> tuple[int, list[int]]:
            student = users.CreateUser(users_pb.CreateUserRequest(user=users_pb.User(
                email=f"batch-{tag}-{i}@example.com", full_name=f"Batch {i}", region=REGIONS[i % len(REGIONS)])),
                timeout=10)
            return enrollments.Enroll(pb.EnrollRequest(student_id=student.id, course_id=course.id),
                                      timeout=10).id, lessons

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(enrolled, range(students_per_shard * len(REGIONS))))


def batches(targets: list[tuple[int, list[int]]], count: int,
            seed: int = 18) -> list[pb.BatchRecordLessonProgressRequest]:
    """`count` batches of BATCH_SIZE heartbeats, each over every shard (no completion: a player's heartbeat)."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        items = []
        for _ in range(BATCH_SIZE):
            enrollment, lessons = rng.choice(targets)
            watched = rng.randrange(1, 3600)
            items.append(pb.RecordLessonProgressRequest(enrollment_id=enrollment, lesson_id=rng.choice(lessons),
                                                        watched_seconds=watched, position_seconds=watched))
        made.append(pb.BatchRecordLessonProgressRequest(requests=items))
    return made


def heartbeats(requests: list[pb.BatchRecordLessonProgressRequest]) -> list[pb.BatchRecordLessonProgressRequest]:
    """The same batches asking only for each item's status (read_mask `status`), as a video player sends them."""
    return [pb.BatchRecordLessonProgressRequest(requests=r.requests, read_mask=field_mask_pb2.FieldMask(
        paths=["status"])) for r in requests]


async def drive_batches(address: str, requests: list[pb.BatchRecordLessonProgressRequest], concurrency: int,
                        seconds: float, admin: str, tls: TlsSettings | None, label: str = "") -> Figures:
    bearer = (("authorization", f"Bearer {admin}"),)  # batches are an admin's (shared/auth/policy.py)
    async with open_aio_channel(address, tls) as channel:
        stub = pb_grpc.EnrollmentServiceStub(channel)

        async def call(i: int) -> None:
            response = await stub.BatchRecordLessonProgress(requests[i % len(requests)], timeout=30,
                                                            metadata=bearer)
            if any(result.status.code for result in response.results):
                raise RuntimeError("an item failed")

        return await drive(label or f"batches of {BATCH_SIZE}, gateway", call, concurrency, seconds)


def measure(gateway: str, pg_port: int, seconds: float, auth_dir: pathlib.Path, tls: TlsSettings | None,
            pg_auth: str = "", accounts: Mapping[str, cpu_account.Account] | None = None) -> dict[str, Figures]:
    """pgbench's one-row INSERTs, batches through the gateway returning every field ("batches") and the same
    batches returning each item's status only ("heartbeats"), measured side by side at CONCURRENCY; each kind
    of batch's CPU charged to its account in `accounts` when given."""
    admin = user_token(auth_dir, 0, "ADMIN", ttl_s=3600)
    targets = setup(gateway, STUDENTS_PER_SHARD, admin, tls)
    full = batches(targets, 256)  # 25,600 items: most of the 15,360 lesson rows, not a few over and over
    kinds = {"batches": (full, f"batches of {BATCH_SIZE}, gateway"),
             "heartbeats": (heartbeats(full), f"batches of {BATCH_SIZE}, status only")}
    runs: dict[str, Callable[[float], Figures]] = {"pgbench": lambda s: pgbench.run(pg_port, CONCURRENCY, s, pg_auth)}
    for kind, (requests, label) in kinds.items():
        def batched(s: float, requests=requests, label=label) -> Figures:
            return asyncio.run(drive_batches(gateway, requests, CONCURRENCY, s, admin, tls, label))

        runs[kind] = accounts[kind].metered(batched) if accounts else batched
    return side_by_side(runs, seconds)


def report(measured: Mapping[str, Figures]) -> list[str]:
    """The figures, then each kind's rows/s against pgbench; the last line `batch rows/s / pgbench = R` is the
    heartbeats' (the batch a video player sends), with the every-field figure beside it."""
    raw = measured["pgbench"]
    ratios = {kind: measured[kind].rate * BATCH_SIZE / raw.rate if raw.rate else 0.0
              for kind in ("batches", "heartbeats")}
    lines = [figures.line() for figures in measured.values()]
    for kind, what in (("batches", "every field returned"), ("heartbeats", "read_mask status")):
        batched = measured[kind]
        lines.append(f"batches of {BATCH_SIZE} over all shards, {what}, c={CONCURRENCY}: "
                     f"{batched.rate * BATCH_SIZE:.0f} rows/s, p99 per batch {batched.p99_ms:.1f} ms; "
                     f"pgbench {raw.rate:.0f} rows/s (p99 {raw.p99_ms:.1f} ms); ratio {ratios[kind]:.2f}")
    lines.append(f"batch rows/s / pgbench = {ratios['heartbeats']:.2f}  (target >= 3; read_mask status: each item's "
                 f"status returned; {ratios['batches']:.2f} with every field)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=".elearn/bench", help="the local cluster to measure")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    layout = Layout.load(pathlib.Path(args.data_dir).resolve())
    gateway = f"{layout.ports.host}:{layout.ports.gateway}"
    accounts = {kind: path_account(layout) for kind in ("batches", "heartbeats")}
    for line in report(measure(gateway, layout.pg_port("eu", "primary"), args.seconds, layout.auth_dir,
                               layout.client_tls(), layout.pg_auth(), accounts)):
        print(line)
    for kind, account in accounts.items():
        print(account_line(kind, account))
    return 0


def path_account(layout: Layout) -> cpu_account.Account:
    """The CPU account of a write through the gateway to enrollments and the shards, by process."""
    gateway, enrollments = (cpu_account.supervised_pid(layout.run, name) for name in ("gateway", "enrollments"))
    return cpu_account.Account({"gateway": lambda: [gateway], "enrollments": lambda: [enrollments],
                                "postgres": lambda: cpu_account.postgres_pids(layout.pg_root)})


def account_line(kind: str, account: cpu_account.Account) -> str:
    """A kind of batch's CPU by process, per batch and per row."""
    per_batch = account.us_per_call()
    parts = " + ".join(f"{role} {us / 1000:.2f}" for role, us in per_batch.items())
    total = sum(per_batch.values())
    return (f"{kind} of {BATCH_SIZE}: CPU per batch (ms) {parts} = {total / 1000:.2f} "
            f"({total / BATCH_SIZE:.0f} us a row)")


if __name__ == "__main__":
    sys.exit(main())
