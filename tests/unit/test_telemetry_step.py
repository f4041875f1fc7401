"""The telemetry step in the real server pipeline, in-process: the gRPC metrics count every call exactly once
by method and code under concurrent callers, and the access log writes one line per call, with its request
ID and reason, within its rate limit."""
import json
import logging
import threading

import grpc
import pytest

from elearning.users.v1 import users_service_pb2 as pb
from elearning.users.v1 import users_service_pb2_grpc as pb_grpc
from shared import errors
from shared.server import ServiceBinding, create_server
from shared.settings import load_settings
from shared.telemetry.metrics import REGISTRY
from tests.unit import auth_keys

SERVICE = "elearning.users.v1.UserService"


class Users(pb_grpc.UserServiceServicer):
    def GetUser(self, request, context):
        if request.id % 3 == 0:
            raise errors.NotFound("user", request.id)
        return pb.User(id=request.id)

    def ListUsers(self, request, context):
        raise RuntimeError("boom")


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def serve(env: dict):
    folder = auth_keys.auth_dir()  # the calls are an admin's, so the authenticate step lets them through
    settings = auth_keys.with_auth(load_settings("users", {"ELEARN_TLS_INSECURE": "1", **env}), folder)
    binding = ServiceBinding(SERVICE, lambda server: pb_grpc.add_UserServiceServicer_to_server(Users(), server))
    server, port, _health = create_server(settings, "127.0.0.1:0", [binding])
    return server, auth_keys.admin_channel(f"127.0.0.1:{port}", folder)


@pytest.fixture
def users():
    server, channel = serve({"ELEARN_ACCESS_LOG_MAX_PER_S": "100000"})
    yield pb_grpc.UserServiceStub(channel)
    channel.close()
    server.stop(grace=1).wait()


def labels(method: str, code: str) -> dict:
    return dict(grpc_service=SERVICE, grpc_method=method, grpc_type="unary", grpc_code=code)


def test_every_call_is_counted_once_by_method_and_code(users, caplog):
    before = {code: sample("grpc_server_handled_total", **labels("GetUser", code)) for code in ("OK", "NOT_FOUND")}
    before_internal = sample("grpc_server_handled_total", **labels("ListUsers", "INTERNAL"))
    started = sample("grpc_server_started_total", grpc_service=SERVICE, grpc_method="GetUser", grpc_type="unary")
    callers, rounds = 20, 3
    failures = []

    def caller(worker: int) -> None:
        for n in range(rounds):
            user_id = worker * rounds + n + 1
            try:
                users.GetUser(pb.GetUserRequest(id=user_id), timeout=10,
                              metadata=(("x-request-id", f"req-{user_id}"),))
            except grpc.RpcError as exc:
                failures.append((user_id, exc.code()))

    with caplog.at_level(logging.INFO, logger="elearn.access"):
        threads = [threading.Thread(target=caller, args=(w,)) for w in range(callers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with pytest.raises(grpc.RpcError):
            users.ListUsers(pb.ListUsersRequest(), timeout=10)

    ids = range(1, callers * rounds + 1)
    missing = sum(1 for i in ids if i % 3 == 0)
    assert sorted(failures) == [(i, grpc.StatusCode.NOT_FOUND) for i in ids if i % 3 == 0]
    assert sample("grpc_server_handled_total", **labels("GetUser", "NOT_FOUND")) - before["NOT_FOUND"] == missing
    assert sample("grpc_server_handled_total", **labels("GetUser", "OK")) - before["OK"] == len(ids) - missing
    assert sample("grpc_server_handling_seconds_count", **labels("GetUser", "OK")) >= len(ids) - missing
    assert sample("grpc_server_started_total", grpc_service=SERVICE, grpc_method="GetUser",
                  grpc_type="unary") - started == len(ids)
    assert sample("grpc_server_handled_total", **labels("ListUsers", "INTERNAL")) - before_internal == 1

    lines = {r.request_id: r for r in caplog.records if r.name == "elearn.access"}
    assert set(lines) >= {f"req-{i}" for i in ids}
    assert lines["req-3"].code == "NOT_FOUND" and lines["req-3"].reason == "NOT_FOUND"
    assert lines["req-1"].code == "OK" and lines["req-1"].reason == ""
    assert lines["req-1"].method == f"/{SERVICE}/GetUser" and lines["req-1"].duration_ms > 0
    assert {"trace_id", "shard", "served_by", "caller"} <= set(vars(lines["req-1"]))
    json.dumps({k: v for k, v in vars(lines["req-1"]).items() if k in ("request_id", "code", "duration_ms")})


def test_the_access_log_keeps_to_its_rate_limit():
    server, channel = serve({"ELEARN_ACCESS_LOG_MAX_PER_S": "5", "ELEARN_ACCESS_LOG_SAMPLE": "1"})
    stub = pb_grpc.UserServiceStub(channel)
    dropped = sample("elearn_access_log_dropped_total")
    handler = _Collect()
    logging.getLogger("elearn.access").addHandler(handler)
    logging.getLogger("elearn.access").setLevel(logging.INFO)
    try:
        for n in range(40):
            stub.GetUser(pb.GetUserRequest(id=3 * n + 1), timeout=10)
    finally:
        logging.getLogger("elearn.access").removeHandler(handler)
        channel.close()
        server.stop(grace=1).wait()
    # 40 calls within at most a few seconds: at most 5 lines in each second they spanned
    assert 5 <= len(handler.records) <= 15
    assert sample("elearn_access_log_dropped_total") - dropped == 40 - len(handler.records)


def test_switched_off_the_step_is_not_in_the_pipeline():
    from shared.server import pipeline
    from shared.shedding import Shedder, ShedLimits
    from shared.telemetry.step import TelemetryStep
    plain = {"ELEARN_TLS_INSECURE": "1"}
    on, off = load_settings("users", plain), load_settings("users", {**plain, "ELEARN_TELEMETRY": "off"})
    shedder = Shedder(ShedLimits(2, 2, 10, 10), domain="d", name="t")
    assert any(isinstance(s, TelemetryStep) for s in pipeline(on, shedder))
    assert not any(isinstance(s, TelemetryStep) for s in pipeline(off, shedder))


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_a_metrics_port_in_use_leaves_the_process_serving(caplog):
    """A second instance on the same topology (as a test's extra server is) must start all the same."""
    import socket

    from shared.telemetry import setup
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        address = f"127.0.0.1:{busy.getsockname()[1]}"
        with caplog.at_level(logging.WARNING):
            setup.start(load_settings("users", {"ELEARN_TLS_INSECURE": "1", "ELEARN_METRICS_LISTEN": address}))
    assert "metrics endpoint not served" in caplog.text
