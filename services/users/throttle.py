"""Sign-in attempts limited per account and per caller in a window; past the limit, sign-in waits. No SQL.

An attempt is counted before its password is checked (`admit`), in the database, so every users process sees
one count and concurrent attempts cannot pass the limit together: of N at once, exactly the limit are checked.
Counted by the email as typed (normalised), whether or not an account has it, so the limit reveals nothing.
A success clears its account's count and gives its caller's attempt back (only failures hold a caller back).
The window is fixed: it starts at a key's first attempt and its count starts again when it has passed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from shared.errors import TooManyAttempts

WINDOW_S = 300
PER_ACCOUNT = 5
PER_CALLER = 50
ACCOUNT, CALLER = "account", "caller"
KEY_LIMIT = 320  # a caller address longer than this is cut (the table's key is bounded)


class AttemptStore(Protocol):
    def count(self, shard: str, scope: str, key: str, window_s: int) -> tuple[int, int]:
        """Count one attempt; (attempts in the key's window so far, seconds until the window ends)."""

    def clear(self, shard: str, scope: str, key: str) -> None: ...

    def give_back(self, shard: str, scope: str, key: str) -> None: ...


class SignInLimits:
    def __init__(self, store: AttemptStore, caller_shard: Callable[[str], str], *, window_s: int = WINDOW_S,
                 per_account: int = PER_ACCOUNT, per_caller: int = PER_CALLER):
        self.store = store
        self.caller_shard = caller_shard
        self.window_s = window_s
        self.limits = {ACCOUNT: per_account, CALLER: per_caller}

    def _count(self, shard: str, scope: str, key: str) -> None:
        attempts, left_s = self.store.count(shard, scope, key, self.window_s)
        if attempts > self.limits[scope]:
            wait = max(1, left_s)
            raise TooManyAttempts(f"too many failed sign-ins; try again in {wait} s",
                                  metadata={"retry_after_s": str(wait)})

    def admit(self, account: str, account_shard: str, caller: str) -> None:
        """Count an attempt on the account, then on the caller; raises TooManyAttempts past either limit.
        An attempt the account refuses is not held against its caller (one account's lock-out must not
        lock out everyone behind the same address)."""
        self._count(account_shard, ACCOUNT, account)
        self._count(self.caller_shard(caller[:KEY_LIMIT]), CALLER, caller[:KEY_LIMIT])

    def succeeded(self, account: str, account_shard: str, caller: str) -> None:
        self.store.clear(account_shard, ACCOUNT, account)
        self.store.give_back(self.caller_shard(caller[:KEY_LIMIT]), CALLER, caller[:KEY_LIMIT])
