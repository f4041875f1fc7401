"""examples/client_walkthrough.py runs as a client team would run it, against the gateway, and every step shows."""
from __future__ import annotations

import pathlib
import subprocess
import sys

from tests.channels import admin_token

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "examples" / "client_walkthrough.py"


def test_the_walkthrough_creates_enrolls_pays_and_reads_its_writes_back(cluster):
    result = subprocess.run([sys.executable, str(SCRIPT), "--gateway", cluster.gateway, "--ca", cluster.tls.ca,
                             "--admin-token", admin_token(cluster.layout.auth_dir)],
                            capture_output=True, text=True, timeout=60, cwd="/")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line[:2] for line in lines] == ["1.", "2.", "3.", "4.", "5."]
    assert "UNPAID" in lines[2] and "SUCCEEDED" in lines[3]
    assert "(PAID)" in lines[4] and "invoice INV-" in lines[4]
