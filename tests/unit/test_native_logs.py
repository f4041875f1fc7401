"""gRPC core's own log lines (C++, written straight to file descriptor 2) come out as JSON records of the
process's one log, in a real child process with gRPC core logging at INFO."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import os, time
    from shared import logs
    from shared.telemetry import native_logs
    logs.configure("users", "INFO", stream=native_logs.capture())
    import grpc
    channel = grpc.insecure_channel("127.0.0.1:1")
    try:
        grpc.channel_ready_future(channel).result(timeout=0.5)
    except grpc.FutureTimeoutError:
        pass
    os.write(2, b"E1202 00:01:02.345678    4242 chttp2_transport.cc:45] connection dropped\\n")
    os.write(2, b"some C library warning\\n")
    import logging
    logging.getLogger("app").warning("from python")
    time.sleep(0.5)
""")


@pytest.mark.slow
def test_every_line_on_stderr_is_json_and_core_lines_keep_their_level():
    env = {**os.environ, "GRPC_VERBOSITY": "INFO", "GRPC_TRACE": ""}
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON, or this raises
    core = [r for r in records if r["logger"] == "grpc.core"]
    dropped = next(r for r in core if r["msg"] == "connection dropped")
    assert dropped["level"] == "error" and dropped["source"] == "chttp2_transport.cc:45"
    assert any(r["msg"] == "some C library warning" and r["level"] == "warning" for r in core)
    assert any(r["logger"] == "app" and r["msg"] == "from python" for r in records)
    assert all(r["process"] == "users" for r in records)
