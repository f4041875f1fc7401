"""The protos pass `buf lint` with buf.yaml's rules (buf from npm: `make venv` installs it)."""
from __future__ import annotations

import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUF = ROOT / "node_modules" / ".bin" / "buf"


def buf(*args: str) -> subprocess.CompletedProcess[str]:
    assert BUF.exists(), f"{BUF} is missing: run `make venv` (npm ci)"
    return subprocess.run([str(BUF), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_buf_lint_is_clean():
    result = buf("lint", "--error-format", "text")
    assert result.returncode == 0, f"buf lint:\n{result.stdout}{result.stderr}"
