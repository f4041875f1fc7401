"""The JSON log line: its timestamp stays right to the millisecond while the formatter reuses the second's text
(records out of order, across second and day boundaries, from many threads), and extra fields pass through."""
import json
import logging
import random
import threading
import time

from shared.logs import JsonFormatter


def record(created: float, **extra) -> logging.LogRecord:
    made = logging.LogRecord("elearn.access", logging.INFO, "", 0, "call", (), None)
    made.created, made.msecs = created, (created - int(created)) * 1000
    made.__dict__.update(extra)
    return made


def expected(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(created))) + f".{int((created % 1) * 1000):03d}Z"


def test_each_line_has_its_own_time_whatever_the_order():
    formatter = JsonFormatter("users")
    midnight = 1_796_083_200.0  # 2026-12-01T00:00:00Z
    times = [midnight - 0.001, midnight, midnight + 0.999, midnight + 1.0, midnight - 86_400.5, midnight + 59.25]
    for created in [*times, *reversed(times), *random.Random(17).choices(times, k=50)]:
        line = json.loads(formatter.format(record(created, request_id="r1", duration_ms=1.5)))
        assert line["ts"] == expected(created), created
        assert (line["request_id"], line["duration_ms"], line["logger"]) == ("r1", 1.5, "elearn.access")


def test_threads_formatting_at_once_never_get_another_seconds_text():
    formatter = JsonFormatter("users")
    base = 1_796_083_200.0
    wrong: list[tuple[float, str]] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(3000):
            created = base + rng.randrange(40) + rng.randrange(1000) / 1000
            got = json.loads(formatter.format(record(created)))["ts"]
            if got != expected(created):
                wrong.append((created, got))

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_an_access_line_is_the_json_line_any_record_with_its_fields_makes():
    from shared.telemetry.access_log import AccessLog

    class Keep(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    keep, access = Keep(), logging.getLogger("elearn.access")
    access.addHandler(keep)
    access.setLevel(logging.INFO)
    try:
        AccessLog(1.0, 100).write(request_id="r-1", trace_id="", method="/pkg.S/M", code="OK", seconds=0.0125,
                                  trailers=(("x-served-by", "eu:replica"), ("x-min-lsn", "na:0/1,eu:0/2")))
    finally:
        access.removeHandler(keep)
    (made,) = keep.records
    formatter = JsonFormatter("test")
    line = json.loads(formatter.format(made))
    plain = record(made.created, **{k: getattr(made, k) for k in (
        "request_id", "trace_id", "method", "code", "reason", "duration_ms", "shard", "served_by", "caller")})
    assert line == json.loads(formatter.format(plain))
    assert (line["shard"], line["served_by"], line["duration_ms"]) == ("eu,na", "eu:replica", 12.5)
    assert logging.Formatter("%(levelname)s %(name)s:%(filename)s:%(lineno)d %(message)s").format(made)
