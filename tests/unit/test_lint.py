"""ruff (everything) and mypy --strict (shared/ and gateway/) are clean, as pyproject.toml configures them."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean():
    result = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_is_clean():
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_shared_postgresql_package_catches_driver_errors():
    """Services, the gateway, the load driver and the rest of shared/ meet domain errors, never psycopg2's: one
    table (shared/pg/errors.py) translates them. The launcher's connections (migrations, health, status) meet
    shared/pg/admin.py's two errors."""
    offenders = []
    for folder in ("services", "gateway", "shared", "loaddriver", "launcher"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.is_relative_to(ROOT / "shared" / "pg"):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                judges = line.lstrip().startswith("except") or "isinstance(" in line
                if judges and "psycopg2" in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, offenders
