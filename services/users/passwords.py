"""Password hashing with scrypt at OWASP's parameters (N=2^17, r=8, p=1: 128 MiB per hash).

Hashing is slow and memory-hard on purpose; a semaphore bounds how many run at once so a burst of
sign-ups cannot exhaust memory.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading

from shared import cpu_slots

N, R, P = 2 ** 17, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
MAXMEM = 256 * 1024 * 1024


class ScryptHasher:
    def __init__(self, *, n: int = N, r: int = R, p: int = P, max_parallel: int | None = None):
        self.n, self.r, self.p = n, r, p
        self._slots = threading.BoundedSemaphore(max_parallel or os.cpu_count() or 2)

    def _derive(self, password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        with cpu_slots.released(), self._slots:  # scrypt runs without the interpreter lock
            return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=MAXMEM, dklen=KEY_BYTES)

    def hash(self, password: str) -> str:
        salt = os.urandom(SALT_BYTES)
        key = self._derive(password, salt, self.n, self.r, self.p)
        b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
        return f"scrypt${self.n}${self.r}${self.p}${b64(salt)}${b64(key)}"

    def verify(self, password: str, encoded: str) -> bool:
        try:
            scheme, n, r, p, salt, key = encoded.split("$")
            if scheme != "scrypt":
                return False
            derived = self._derive(password, base64.b64decode(salt), int(n), int(r), int(p))
        except ValueError:
            return False
        return hmac.compare_digest(derived, base64.b64decode(key))
