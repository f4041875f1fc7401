"""`buf breaking` (WIRE_JSON, see buf.yaml) between the previous commit's protos and these: a break fails the
suite unless the last commit's message carries a `Breaking-Change: <reason>` trailer, which is then reported."""
from __future__ import annotations

import io
import pathlib
import shutil
import subprocess
import tarfile
import warnings

import pytest

from tests.unit.test_protos_lint import BUF, ROOT, buf

TRAILER = "Breaking-Change"


class AcceptedBreakingChange(UserWarning):
    """The protos break WIRE_JSON compatibility and the last commit says why."""


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, timeout=60)


def previous_protos(into: pathlib.Path) -> pathlib.Path | None:
    """HEAD~1's protos/ beside today's buf.yaml (one module layout for both), or None without a parent."""
    archive = git("archive", "--format=tar", "HEAD~1", "protos")
    if archive.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    shutil.copy(ROOT / "buf.yaml", into / "buf.yaml")
    return into


def breaking_reason() -> str:
    trailers = git("log", "-1", f"--format=%(trailers:key={TRAILER},valueonly,separator=%x3B )")
    return trailers.stdout.decode().strip()


def test_protos_do_not_break_the_previous_commits_unless_the_commit_says_so(tmp_path):
    assert BUF.exists(), f"{BUF} is missing: run `make venv` (npm ci)"
    against = previous_protos(tmp_path)
    if against is None:
        pytest.skip("no previous commit to compare the protos with (a root commit or a shallow clone)")
    result = buf("breaking", "--error-format", "text", "--against", str(against))
    if result.returncode == 0:
        return
    reason = breaking_reason()
    assert reason, (f"the protos break WIRE_JSON compatibility with HEAD~1:\n{result.stdout}{result.stderr}"
                    f"if this is deliberate, add a trailer `{TRAILER}: <reason>` to the commit message")
    warnings.warn(AcceptedBreakingChange(
        f"{len(result.stdout.splitlines())} breaking change(s) accepted by the last commit ({TRAILER}: {reason})"),
        stacklevel=1)
