"""The machine-readable results beside the PDF: a per-call CSV written as the run goes, one JSON document
(run, summary, comparison; no per-call data) at the end, and reading an earlier JSON back as a --baseline."""
from __future__ import annotations

import csv
import json
import pathlib

from loaddriver.compare import compare

CSV_COLUMNS = ("seq", "worker", "rpc", "kind", "region", "shard", "served_by", "start_s", "latency_ms",
               "scheduled_s", "scheduled_latency_ms", "code", "expected", "outcome", "reason", "detail", "warmup")
RESULTS_FORMAT = "elearn-load-results/2"


class BaselineError(ValueError):
    """A --baseline file that cannot be read as the results of an earlier run."""


def result_paths(path_pdf: str | pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """report.pdf → (report.json, report.csv), in the same folder."""
    pdf = pathlib.Path(path_pdf)
    return pdf.with_suffix(".json"), pdf.with_suffix(".csv")


class CallWriter:
    """The per-call CSV, one row per call as it completes (in completion order; sort by seq for the order
    the calls were drawn), flushed by the operating system as it fills: nothing is kept in memory."""

    def __init__(self, path: str | pathlib.Path):
        self.path = pathlib.Path(path)
        self._file = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(CSV_COLUMNS)

    def write(self, call: dict) -> None:
        self._writer.writerow([_cell(call.get(column, "")) for column in CSV_COLUMNS])

    def close(self) -> None:
        self._file.close()


def write_results(path_pdf, run: dict, summary: dict, baseline: dict | None = None) -> pathlib.Path:
    """Write the JSON beside `path_pdf`; `baseline` is an earlier run's summary (see load_baseline), compared
    with this one in the JSON's "comparison"."""
    json_path, _csv_path = result_paths(path_pdf)
    document = {"format": RESULTS_FORMAT, "run": run, "summary": summary}
    if baseline is not None:
        document["comparison"] = compare(summary, baseline)
    # allow_nan=False: a NaN or infinity would make the file unreadable by strict JSON parsers.
    json_path.write_text(json.dumps(document, indent=1, allow_nan=False, default=str) + "\n", encoding="utf-8")
    return json_path


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def load_baseline(path: str | pathlib.Path) -> dict:
    """The summary of an earlier run, from the JSON that write_results wrote."""
    try:
        document = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BaselineError(f"cannot read the baseline {path}: {exc}") from exc
    summary = document.get("summary") if isinstance(document, dict) else None
    required = ("throughput", "success_rate", "latency", "per_rpc")
    if not isinstance(summary, dict) or any(key not in summary for key in required):
        raise BaselineError(f"{path} is not the results JSON of a load run (no summary with {', '.join(required)})")
    return summary
