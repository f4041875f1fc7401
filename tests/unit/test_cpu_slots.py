"""shared.cpu_slots: at most `slots` workers run Python at once, a worker waiting inside `released` lets another
run, and the server's workers each hold a slot for their call (so a blocked handler that does not give its
slot back holds the others up, which is what bounds the threads competing for the interpreter lock)."""
import contextlib
import threading
import time

import grpc
import pytest

from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from shared import cpu_slots
from shared.cpu_slots import CpuSlots
from shared.server import ServiceBinding, create_server
from shared.settings import load_settings
from tests.unit.auth_keys import admin_channel, auth_dir, with_auth

SERVICE = "elearning.users.v1.UserService"


def run_in_threads(count: int, body) -> list[threading.Thread]:
    threads = [threading.Thread(target=body, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def test_at_most_slots_threads_hold_one_and_a_released_slot_lets_another_in():
    slots, inside, peak, lock = CpuSlots(2), [0], [0], threading.Lock()
    go_on = threading.Event()

    def worker():
        with slots.held():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            go_on.wait(5)
            with lock:
                inside[0] -= 1

    threads = run_in_threads(5, worker)
    time.sleep(0.2)
    assert inside[0] == 2  # three wait for a slot
    go_on.set()
    for thread in threads:
        thread.join(5)
    assert peak[0] == 2

    waiting, entered = threading.Event(), threading.Event()

    one = CpuSlots(1)

    def waits_on_a_database():
        with one.held():
            with cpu_slots.released():
                with cpu_slots.released():  # nested: a no-op, the slot is given back once
                    waiting.set()
                    entered.wait(5)

    holder = run_in_threads(1, waits_on_a_database)[0]
    assert waiting.wait(5)
    with one.held():  # the holder is waiting with its slot given back: this thread gets it at once
        entered.set()
    holder.join(5)
    assert not holder.is_alive()


def test_released_on_a_thread_without_a_slot_is_a_no_op():
    with cpu_slots.released():
        pass
    slots = CpuSlots(1)
    with slots.held():
        pass
    with cpu_slots.released():  # the slot was given back when held() ended: nothing to release twice
        pass
    with slots.held():  # still exactly one slot
        assert not slots._free.acquire(blocking=False)


class WaitingUsers(pb_grpc.UserServiceServicer):
    """GetUser waits on a 'database', its slot given back while it waits when `polite`."""

    def __init__(self, polite: bool):
        self.polite = polite
        self.release = threading.Event()
        self.waiting = 0

    def GetUser(self, request, context):
        with cpu_slots.released() if self.polite else contextlib.nullcontext():
            self.waiting += 1
            self.release.wait(10)
        return pb.User(id=request.id)


def waiting_at_once(polite: bool) -> int:
    """With one slot and four workers, how many of three GetUser calls wait on their 'database' at once."""
    folder = auth_dir()
    # The queue wait bound far off: a call that waits for its slot that long would be shed when it starts.
    settings = with_auth(load_settings("users", {"ELEARN_MAX_WORKERS": "4", "ELEARN_CPU_SLOTS": "1",
                                                   "ELEARN_MAX_QUEUE_WAIT_MS": "60000",
                                                   "ELEARN_TLS_INSECURE": "1"}), folder)
    users = WaitingUsers(polite)
    binding = ServiceBinding(SERVICE, lambda server: pb_grpc.add_UserServiceServicer_to_server(users, server))
    server, port, _health = create_server(settings, "127.0.0.1:0", [binding])
    try:
        with admin_channel(f"127.0.0.1:{port}", folder) as channel:
            stub = pb_grpc.UserServiceStub(channel)
            calls = [stub.GetUser.future(pb.GetUserRequest(id=i), timeout=15) for i in (1, 2, 3)]
            deadline = time.monotonic() + (3 if polite else 0.5)  # impolite: the other two never get in
            while users.waiting < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            waiting = users.waiting
            users.release.set()
            assert [c.result(timeout=10).id for c in calls] == [1, 2, 3]
            return waiting
    finally:
        users.release.set()
        server.stop(grace=1).wait()


def test_workers_waiting_with_their_slot_released_wait_at_once():
    assert waiting_at_once(polite=True) == 3


def test_a_worker_keeps_its_slot_for_its_call_unless_it_gives_it_back():
    assert waiting_at_once(polite=False) == 1


def test_a_call_that_cannot_get_a_slot_within_half_its_deadline_is_shed_and_the_slot_is_not_lost():
    folder = auth_dir()
    settings = with_auth(load_settings("users", {"ELEARN_MAX_WORKERS": "4", "ELEARN_CPU_SLOTS": "1",
                                                   "ELEARN_MAX_QUEUE_WAIT_MS": "200",
                                                   "ELEARN_TLS_INSECURE": "1"}), folder)
    users = WaitingUsers(polite=False)  # the first call keeps its slot while it waits
    binding = ServiceBinding(SERVICE, lambda server: pb_grpc.add_UserServiceServicer_to_server(users, server))
    server, port, _health = create_server(settings, "127.0.0.1:0", [binding])
    try:
        with admin_channel(f"127.0.0.1:{port}", folder) as channel:
            stub = pb_grpc.UserServiceStub(channel)
            holder = stub.GetUser.future(pb.GetUserRequest(id=1), timeout=15)
            deadline = time.monotonic() + 5
            while users.waiting < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            start = time.monotonic()
            with pytest.raises(grpc.RpcError) as shed:  # shed after half its deadline, 0.5 s
                stub.GetUser(pb.GetUserRequest(id=2), timeout=1)
            waited_s = time.monotonic() - start
            assert shed.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, shed.value
            assert users.waiting == 1  # it never ran
            assert waited_s < 1, waited_s
            users.release.set()
            assert holder.result(timeout=10).id == 1
            assert stub.GetUser(pb.GetUserRequest(id=3), timeout=10).id == 3  # the slot is free again
    finally:
        users.release.set()
        server.stop(grace=1).wait()
