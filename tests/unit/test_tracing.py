"""Trace sampling and propagation in one process: a caller's sampled traceparent is always followed and
exported, an unsampled one keeps its trace ID without recording, a malformed one starts a new trace."""
import json
import time

import pytest

from shared.telemetry import tracing

PARENT_TRACE, PARENT_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("traces")
    if tracing.configure("users", sample_ratio=0.0, trace_dir=str(folder)) is None:
        pytest.skip("this test process already has a tracer provider")
    return folder / "users.jsonl"


def test_a_sampled_caller_is_followed_and_exported(exported):
    metadata = (("traceparent", f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"),)
    with tracing.server_span("svc/Method", metadata) as span:
        assert span.is_recording() and tracing.trace_id(span) == PARENT_TRACE
        with tracing.client_span("other/Call") as client:
            sent = dict(tracing.outgoing())
    assert sent["traceparent"].startswith(f"00-{PARENT_TRACE}-") and sent["traceparent"].endswith("-01")
    assert sent["traceparent"].split("-")[2] == format(client.get_span_context().span_id, "016x")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        spans = [json.loads(line) for line in exported.read_text().splitlines()] if exported.exists() else []
        if len(spans) >= 2:
            break
        time.sleep(0.1)
    by_name = {s["name"]: s for s in spans}
    assert by_name["svc/Method"]["parent_id"] == f"0x{PARENT_SPAN}"
    assert by_name["other/Call"]["parent_id"] == by_name["svc/Method"]["context"]["span_id"]


def test_an_unsampled_caller_keeps_its_trace_id_without_recording(exported):
    with tracing.server_span("svc/Method", (("traceparent", f"00-{PARENT_TRACE}-{PARENT_SPAN}-00"),)) as span:
        assert not span.is_recording() and tracing.trace_id(span) == PARENT_TRACE
        with tracing.client_span("other/Call"):
            (header,) = tracing.outgoing()
    assert header[1].startswith(f"00-{PARENT_TRACE}-") and header[1].endswith("-00")


@pytest.mark.parametrize("traceparent", ["00-zz-00f067aa0ba902b7-01", "garbage", f"00-{'0' * 32}-{PARENT_SPAN}-01"])
def test_a_malformed_traceparent_starts_a_new_trace(exported, traceparent):
    with tracing.server_span("svc/Method", (("traceparent", traceparent),)) as span:
        assert not span.is_recording()  # ratio 0 here
        assert tracing.trace_id(span) not in ("", PARENT_TRACE, "0" * 32)


def test_outside_any_call_nothing_is_sent():
    assert tracing.outgoing() == ()
