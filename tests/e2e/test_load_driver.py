"""`elearn load` as `make demo` runs it: real calls through the gateway, a report whose numbers match its
JSON, every invalid kind rejected with its expected status, reads that see the run's writes, and a PDF that
renders."""
from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys

import pytest

from loaddriver.invalid import KINDS


@pytest.fixture(scope="module")
def load_run(cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("load")
    report = folder / "report.pdf"
    result = subprocess.run(
        [sys.executable, "-m", "launcher.cli", "load", "--data-dir", str(cluster.layout.data_dir), "--total", "600",
         "--concurrency", "8", "--invalid-ratio", "0.25", "--seed", "7", "--report", str(report), "--name", "e2e"],
        capture_output=True, text=True, timeout=300)
    results = json.loads(report.with_suffix(".json").read_text())
    with open(report.with_suffix(".csv"), newline="") as handle:
        results["calls"] = list(csv.DictReader(handle))  # per-call data lives only in the CSV
    return result, report, results


def test_the_run_succeeds_with_no_unexpected_outcome(load_run):
    result, report, results = load_run
    assert result.returncode == 0, result.stdout + result.stderr
    totals = results["summary"]["totals"]
    assert totals["calls"] == 600 and totals["unexpected"] == 0, results["summary"].get("unexpected")
    assert totals["successes"] + totals["expected_rejections"] + totals["unexpected"] == totals["calls"]
    assert report.exists() and report.stat().st_size > 10_000


def test_every_invalid_kind_is_rejected_with_its_status(load_run):
    _, _, results = load_run
    calls = results["calls"]
    kinds = {c["kind"] for c in calls if c["kind"] != "valid"}
    assert kinds == set(KINDS)
    for call in calls:
        if call["kind"] != "valid":
            assert call["code"] == call["expected"] != "OK" and call["outcome"] == "expected_rejection", call


def test_the_csv_has_one_row_per_call_and_the_json_only_the_summary(load_run):
    _, report, results = load_run
    assert len(results["calls"]) == len({c["seq"] for c in results["calls"]}) == 600
    document = json.loads(report.with_suffix(".json").read_text())
    assert set(document) == {"format", "run", "summary"} and len(document["summary"]["unexpected"]) == 0
    assert sum(1 for c in results["calls"] if c["code"] == "OK") == results["summary"]["latency"]["ok"]["count"]
    shards = {c["shard"] for c in results["calls"] if c["code"] == "OK"}
    assert {"na", "eu", "apac"} <= shards


def test_reads_see_the_writes_and_report_which_node_served_them(load_run):
    result, _, results = load_run
    reads = [c for c in results["calls"] if c["rpc"].startswith(("Get", "List"))]
    assert reads and all(c["code"] == "OK" for c in reads), [c for c in reads if c["code"] != "OK"][:5]
    assert all(c["served_by"] for c in reads)
    section = results["summary"]["served_by"]
    assert section["replica"] + section["primary"] == section["shard_reads"] >= len(reads)
    assert sum(s["shard_reads"] for s in section["by_shard"].values()) == section["shard_reads"]
    assert f"reads served by replicas: {section['replica_rate']:.1%} " in result.stdout
    assert results["run"]["session"]["token"] and results["run"]["session"]["malformed_trailers"] == 0


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_the_pdf_renders_every_page(load_run, tmp_path):
    _, report, _ = load_run
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(report), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 5 and all(p.stat().st_size > 2_000 for p in pages)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_pdf_shows_the_numbers_of_the_json(load_run):
    _, report, results = load_run
    text = subprocess.run(["pdftotext", "-layout", str(report), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    totals = results["summary"]["totals"]
    for number in (totals["calls"], totals["successes"], totals["expected_rejections"]):
        assert f"{number:,}" in text, number
    for kind in KINDS:
        assert kind in text, kind
    for rpc in {c["rpc"] for c in results["calls"]}:
        assert rpc in text, rpc
    for heading in ("Rate, latency over time and the driver", "Latency over time (OK calls)",
                    "Percentile curve (OK calls)", "The driver's own CPU", "Server side", "Warnings"):
        assert heading in text, heading
    # p99.9 of 600 calls rests on too few samples, and the report says so.
    assert "p99.9 of OK calls rests on" in " ".join(text.split())
    # Headers and codes are never broken inside a word (the columns are as wide as their longest word).
    words = set(re.findall(r"[\w.]+", text))
    for word in ("worker", "rejections", "unexpected", *results["summary"]["by_code"]):
        assert word in words, word
    served = results["summary"]["served_by"]
    table = text.split("Reads served by", 1)[1].split("Status codes", 1)[0]
    rows = {words[0]: words[-4:] for words in map(str.split, table.splitlines()) if words}
    for shard, counts in (*served["by_shard"].items(), ("all", served)):  # "all shards" is the totals row
        expected = [f"{counts[k]:,}" for k in ("shard_reads", "replica", "primary")] + [f"{counts['replica_rate']:.2%}"]
        assert rows[shard] == expected, (shard, rows.get(shard))


@pytest.mark.slow
def test_a_rate_far_above_capacity_fails_and_names_the_achieved_rate(cluster, tmp_path):
    report = tmp_path / "overload.pdf"
    result = subprocess.run(
        [sys.executable, "-m", "launcher.cli", "load", "--data-dir", str(cluster.layout.data_dir), "--rps", "20000",
         "--duration", "2", "--concurrency", "4", "--report", str(report), "--name", "overload"],
        capture_output=True, text=True, timeout=300)
    summary = json.loads(report.with_suffix(".json").read_text())["summary"]
    rate = summary["rate"]
    assert result.returncode == 1, result.stdout + result.stderr
    assert summary["totals"]["calls"] > 0  # missed because the cluster is slower, not because nothing was sent
    assert rate["missed"] and rate["ratio"] < 0.9 and rate["target_rps"] == 20000
    assert f"achieved rate {rate['achieved_rps']:.1f} calls/s is below the target 20000/s" in result.stderr
    assert "FAILED: achieved" in subprocess.run(["pdftotext", str(report), "-"], capture_output=True, text=True,
                                                check=True, timeout=60).stdout.replace("\n", " ")
    # Calls queued behind the schedule: timed from their slot they waited far longer than from their send.
    assert summary["latency"]["ok_from_schedule"]["p50"] > summary["latency"]["ok"]["p50"] * 2


@pytest.mark.slow
def test_a_run_by_duration_calls_for_that_long(cluster, tmp_path):
    """The clock starts when the workers are ready: a short --duration is spent calling, not building data."""
    report = tmp_path / "short.pdf"
    result = subprocess.run(
        [sys.executable, "-m", "launcher.cli", "load", "--data-dir", str(cluster.layout.data_dir), "--duration", "2",
         "--concurrency", "8", "--report", str(report), "--name", "short"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    run = json.loads(report.with_suffix(".json").read_text())
    assert run["summary"]["totals"]["calls"] >= 8, run["summary"]["totals"]
    started = min(float(row["start_s"]) for row in csv.DictReader(report.with_suffix(".csv").open()))
    assert started < 1.0  # the first calls go out at once, not after the workers' set-up
