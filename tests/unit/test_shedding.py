"""shared.shedding in a real in-process server (127.0.0.1:0) whose handler blocks: past max_workers + max_queue,
or while the oldest queued call has waited max_queue_wait_ms, calls are answered RESOURCE_EXHAUSTED at once
with RetryInfo and ErrorInfo, health still answers while every worker is busy, and the bound frees up again as
calls finish or expire in the queue."""
import threading
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from shared import shedding
from shared.server import ServiceBinding, create_server
from shared.settings import load_settings
from tests.unit.auth_keys import admin_channel, auth_dir, with_auth

SERVICE = "elearning.users.v1.UserService"
WORKERS, QUEUE = 2, 2


class BlockedUsers(pb_grpc.UserServiceServicer):
    def __init__(self):
        self.release = threading.Event()
        self.ran: list[int] = []

    def GetUser(self, request, context):
        self.ran.append(request.id)
        self.release.wait(20)
        return pb.User(id=request.id)


@pytest.fixture
def running(request):
    queue_wait_ms = getattr(request, "param", 60_000)  # by default, only the count bounds the queue
    folder = auth_dir()
    settings = with_auth(load_settings("users", {
        "ELEARN_TLS_INSECURE": "1", "ELEARN_MAX_WORKERS": str(WORKERS), "ELEARN_MAX_QUEUE": str(QUEUE),
        "ELEARN_SHED_RETRY_MS": "150", "ELEARN_MAX_QUEUE_WAIT_MS": str(queue_wait_ms)}), folder)
    users = BlockedUsers()
    binding = ServiceBinding(SERVICE, lambda server: pb_grpc.add_UserServiceServicer_to_server(users, server))
    server, port, _health = create_server(settings, "127.0.0.1:0", [binding])
    channel = admin_channel(f"127.0.0.1:{port}", folder)
    try:
        yield users, channel
    finally:
        users.release.set()
        channel.close()
        server.stop(grace=1).wait()


def details(error: grpc.RpcError):
    found = {}
    for detail in rpc_status.from_call(error).details:
        for kind in (error_details_pb2.RetryInfo, error_details_pb2.ErrorInfo):
            message = kind()
            if detail.Unpack(message):
                found[kind] = message
    return found


def fire(channel, count: int, timeout: float = 20, first_id: int = 1) -> list[grpc.Future]:
    stub = pb_grpc.UserServiceStub(channel)
    return [stub.GetUser.future(pb.GetUserRequest(id=first_id + i), timeout=timeout) for i in range(count)]


def wait_done(calls, count: int, within_s: float) -> list[grpc.Future]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        done = [c for c in calls if c.done()]
        if len(done) >= count:
            return done
        time.sleep(0.01)
    return [c for c in calls if c.done()]


def wait_running(users: BlockedUsers, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(users.ran) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(users.ran) == count


def served_after_retries(channel, user_id: int, attempts: int = 20) -> bool:
    stub = pb_grpc.UserServiceStub(channel)
    for _ in range(attempts):
        try:
            return stub.GetUser(pb.GetUserRequest(id=user_id), timeout=5).id == user_id
        except grpc.RpcError as error:
            if error.code() is not grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
            delay_ms = details(error)[error_details_pb2.RetryInfo].retry_delay.ToMilliseconds()
            time.sleep(delay_ms / 1000)
    return False


def health(channel) -> str:
    # Well under the 20 s the workers stay blocked: without its own lane the check would wait for them.
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def test_calls_past_the_bound_are_shed_at_once_with_retry_info(running):
    users, channel = running
    calls = fire(channel, 10)
    shed = wait_done(calls, 10 - WORKERS - QUEUE, within_s=5)
    assert len(shed) == 10 - WORKERS - QUEUE  # the admitted four are still held by the blocked workers
    for call in shed:
        error = call.exception()
        assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        found = details(error)
        delay_ms = found[error_details_pb2.RetryInfo].retry_delay.ToMilliseconds()
        assert 150 <= delay_ms <= 300
        info = found[error_details_pb2.ErrorInfo]
        assert (info.reason, info.domain, info.metadata["retry_after_ms"]) == (
            "OVERLOADED", "elearning.users", str(delay_ms))
        assert error.details() == f"too many calls in progress; retry after {delay_ms} ms"
    assert health(channel) == "SERVING"  # not queued behind the busy workers, not shed

    users.release.set()
    admitted = [c for c in calls if c not in shed]
    assert all(c.result(timeout=5).id > 0 for c in admitted)


def test_the_bound_frees_up_as_calls_finish_or_expire_in_the_queue(running):
    users, channel = running
    held = fire(channel, WORKERS, first_id=1)
    wait_running(users, WORKERS)  # both workers blocked
    expiring = fire(channel, QUEUE, timeout=0.3, first_id=100)  # queued; they expire there
    assert all(c.exception(timeout=5).code() is grpc.StatusCode.DEADLINE_EXCEEDED for c in expiring)
    # The server's deadline of a call is later than its client's by the time the request took to arrive.
    time.sleep(0.2)
    users.release.set()
    assert all(c.result(timeout=5).id > 0 for c in held)
    # The expired calls left the queue without running, and every place is free again, none leaked: a caller
    # that honours the retry delay gets all its calls served (a worker gives its place back only just after
    # its reply is sent, so a call may still be shed now and then).
    for _round in range(3):
        assert all(served_after_retries(channel, 1000 + i) for i in range(WORKERS + QUEUE))
    assert not set(users.ran) & {100, 101}


@pytest.mark.parametrize("running", [200], indirect=True)
def test_no_call_queues_behind_one_that_has_waited_too_long(running):
    users, channel = running
    held = fire(channel, WORKERS, first_id=1)
    wait_running(users, WORKERS)
    waiting = fire(channel, 1, first_id=10)  # queued: the count bound still has room for one more
    time.sleep(0.4)  # longer than max_queue_wait_ms
    late, = fire(channel, 1, first_id=20)
    assert late.exception(timeout=5).code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    users.release.set()
    # The queued one is still served: it waited past max_queue_wait_ms but not half of its 20 s.
    assert all(c.result(timeout=5).id > 0 for c in held + waiting)


class SlowUsers(pb_grpc.UserServiceServicer):
    def __init__(self, seconds: float = 0.1):
        self.seconds = seconds
        self.ran: list[int] = []

    def GetUser(self, request, context):
        self.ran.append(request.id)
        time.sleep(self.seconds)
        return pb.User(id=request.id)


def test_a_burst_is_cut_at_what_the_workers_can_serve_within_the_queue_wait():
    folder = auth_dir()
    settings = with_auth(load_settings("users", {"ELEARN_TLS_INSECURE": "1", "ELEARN_MAX_WORKERS": "1",
                                                 "ELEARN_MAX_QUEUE": "100", "ELEARN_MAX_QUEUE_WAIT_MS": "350"}),
                         folder)
    binding = ServiceBinding(SERVICE, lambda server: pb_grpc.add_UserServiceServicer_to_server(SlowUsers(), server))
    server, port, _health = create_server(settings, "127.0.0.1:0", [binding])
    try:
        with admin_channel(f"127.0.0.1:{port}", folder) as channel:
            assert all(c.result(timeout=5).id for c in fire(channel, 1))  # the server learns a call takes 0.1 s
            burst = fire(channel, 10, timeout=10)
            codes = [c.code() for c in burst]
    finally:
        server.stop(grace=1).wait()
    # One runs and about three wait (0.1 s each, under 0.35 s); the count bound alone would have let in all ten.
    served = codes.count(grpc.StatusCode.OK)
    assert 2 <= served <= 4 and codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 10 - served, codes


def test_calls_of_a_burst_that_slows_every_call_are_shed_when_they_start_late_not_left_to_expire():
    """Admission goes by how long calls took before the burst (0.05 s: seven may queue within 0.35 s); the
    burst makes each take 0.6 s, so without a check at the start the queued seven would finish after 1.2-4.8 s,
    most past their 2 s deadline. A call that has waited half its deadline (1 s) is shed when the worker
    takes it, and the rest drain at once behind it: none expires, and each is told within about 1.2 s."""
    folder = auth_dir()
    settings = with_auth(load_settings("users", {"ELEARN_TLS_INSECURE": "1", "ELEARN_MAX_WORKERS": "1",
                                                 "ELEARN_MAX_QUEUE": "100", "ELEARN_MAX_QUEUE_WAIT_MS": "350"}),
                         folder)
    users = SlowUsers(0.05)
    binding = ServiceBinding(SERVICE, lambda server: pb_grpc.add_UserServiceServicer_to_server(users, server))
    server, port, _health = create_server(settings, "127.0.0.1:0", [binding])
    try:
        with admin_channel(f"127.0.0.1:{port}", folder) as channel:
            assert all(c.result(timeout=5).id for c in fire(channel, 1))
            users.seconds = 0.6
            start = time.monotonic()
            burst = fire(channel, 10, timeout=2, first_id=100)
            codes = [c.code() for c in burst]
            took_s = time.monotonic() - start
    finally:
        server.stop(grace=1).wait()
    assert grpc.StatusCode.DEADLINE_EXCEEDED not in codes, codes
    # The first runs at once, the second after it (0.6 s waited), the third would start after 1.2 s.
    assert codes.count(grpc.StatusCode.OK) == 2 and codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 8, codes
    assert len([i for i in users.ran if i >= 100]) == 2  # the shed ones never ran
    assert took_s < 1.9, took_s


def test_only_calls_that_reach_their_handler_count_in_the_run_time_estimate():
    """Else a burst of calls shed at their start, or cancelled while they waited (microseconds each), would talk
    admission into queueing the next burst as if every call took microseconds."""
    pool = shedding.CountingPool(1, thread_name_prefix="estimate")
    try:
        def served():
            shedding._worker.ran = True  # what Shedder.wait_left_s marks as the handler starts
            time.sleep(0.1)

        pool.submit(served).result()
        for _ in range(50):
            pool.submit(lambda: None).result()  # shed at its start or cancelled: never marked
        assert pool._mean_run_s >= 0.09  # about the served call's 0.1 s, not 0.1 * 0.95 ** 50
    finally:
        pool.shutdown()


def test_a_few_calls_held_long_move_the_estimate_a_little_many_move_it_all_the_way():
    """A dozen calls a stalled shard held until their deadline must not make admission shed every shard's calls;
    a burst in which every call is slower must still be learned within a few dozen calls."""
    pool = shedding.CountingPool(1, thread_name_prefix="estimate")

    def run(seconds: float):
        def call():
            shedding._worker.ran = True
            time.sleep(seconds)
        pool.submit(call).result()

    try:
        run(0.005)
        for _ in range(12):
            run(0.3)  # stand-ins for 3 s calls cut at their deadline
        assert pool._mean_run_s < 0.05  # about 5 ms x 1.15 ** 12, not the 0.14 s of an uncapped average
        for _ in range(40):
            run(0.3)
        assert pool._mean_run_s > 0.2
    finally:
        pool.shutdown()
