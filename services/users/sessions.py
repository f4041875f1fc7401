"""Sign-in rules: Login, RefreshToken, Logout and the single-sign-on exchange. No gRPC, no SQL.

A wrong email, a wrong password and a password-less account all get the same answer after the same work
(an unknown email still costs one scrypt hash), so neither the answer nor its timing says which it was.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from services.users import rules
from services.users.throttle import SignInLimits
from shared.auth.tokens import ACCESS_TTL_S, LEEWAY_S, Signer
from shared.errors import InvalidArgument, Unauthenticated, Unavailable
from shared.sharding import ShardMap

REFRESH_TTL = timedelta(days=14)
# An ended session stays listed until the last access token it can have minted has expired.
ENDED_LISTED = timedelta(seconds=ACCESS_TTL_S + LEEWAY_S)
ENDED_CACHE_S = 1.0  # part of the revocation delay: a poll may see the list as it was this long ago
WRONG = "the email or password is wrong"


class SessionStore(Protocol):
    def credentials(self, shard: str, user_id: int) -> tuple[str | None, str, str] | None: ...

    def save(self, shard: str, user_id: int, token_hash: bytes, expires_at: datetime, session_id: str) -> None: ...

    def revoke(self, shard: str, token_hash: bytes) -> tuple[int, str | None] | None: ...

    def end_session(self, shard: str, user_id: int, session_id: str, until: datetime) -> None: ...

    def ended_sessions(self, shard: str) -> list[str]: ...


class EmailLookup(Protocol):
    def lookup_email(self, directory: str, email: str) -> int | None: ...


class Hasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password: str, encoded: str) -> bool: ...


@dataclass(frozen=True)
class Session:
    user_id: int
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


def _digest(refresh_token: str) -> bytes:
    return hashlib.sha256(refresh_token.encode()).digest()


class Sessions:
    def __init__(self, store: SessionStore, users: EmailLookup, shard_map: ShardMap, hasher: Hasher,
                 signer: Signer, throttle: SignInLimits):
        self.store, self.users, self.shards = store, users, shard_map
        self.hasher, self.signer, self.throttle = hasher, signer, throttle
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()
        self._ended: tuple[float, list[str]] = (float("-inf"), [])
        self._ended_lock = threading.Lock()

    def _dummy_hash(self) -> str:
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
            return self._dummy

    def _account(self, email: str) -> tuple[int, tuple[str | None, str, str]] | None:
        if rules.email_problem(email):
            return None
        user_id = self.users.lookup_email(self.shards.for_key(email).name, email)
        if not user_id:
            return None
        found = self.store.credentials(self.shards.for_id(user_id).name, user_id)
        return (user_id, found) if found else None

    def login(self, email: str, password: str, caller: str) -> Session:
        email = rules.normalize_email(email)
        if rules.email_problem(email):
            raise Unauthenticated(WRONG)  # no account can have it: nothing to guess, nothing to count
        account = self._account(email)
        # The account's count lives on its home shard; an email without an account is counted on its directory
        # shard, which every process also picks alike.
        counted_on = self.shards.for_id(account[0]).name if account else self.shards.for_key(email).name
        self.throttle.admit(email, counted_on, caller)
        password_hash = account[1][0] if account else None
        ok = self.hasher.verify(password, password_hash or self._dummy_hash())
        if not (ok and account and password_hash):
            raise Unauthenticated(WRONG)  # already counted by admit
        self.throttle.succeeded(email, counted_on, caller)
        user_id, (_hash, role, region) = account
        return self._open(user_id, role, region, secrets.token_urlsafe(12))

    def exchange(self, email: str) -> Session:
        """For the single-sign-on bridge, which has authenticated the person itself."""
        account = self._account(rules.normalize_email(email))
        if account is None:
            raise Unauthenticated("no account has this email")
        user_id, (_hash, role, region) = account
        return self._open(user_id, role, region, secrets.token_urlsafe(12))

    def refresh(self, refresh_token: str) -> Session:
        user_id, session_id = self._revoke(refresh_token)
        found = self.store.credentials(self.shards.for_id(user_id).name, user_id)
        if found is None:
            raise Unauthenticated("the refresh token is invalid, expired or revoked")
        return self._open(user_id, found[1], found[2], session_id or secrets.token_urlsafe(12))

    def logout(self, refresh_token: str) -> None:
        """Ends the session: its refresh token revoked, its ID listed so every process refuses its access tokens."""
        user_id, session_id = self._revoke(refresh_token)
        if session_id:
            self.store.end_session(self.shards.for_id(user_id).name, user_id, session_id,
                                   datetime.now(UTC) + ENDED_LISTED)

    def ended_sessions(self) -> list[str]:
        """Every shard's ended sessions, read at most once per ENDED_CACHE_S however many processes poll."""
        read_at, ids = self._ended
        # One read at a time: while a slow shard holds it, other polls get the last list instead of piling up.
        if time.monotonic() - read_at >= ENDED_CACHE_S and self._ended_lock.acquire(blocking=False):
            try:
                ids = [sid for shard in self.shards.names for sid in self.store.ended_sessions(shard)]
                self._ended = (time.monotonic(), ids)
            finally:
                self._ended_lock.release()
        elif read_at == float("-inf"):
            # Nothing read yet: an empty answer would make the pollers forget the sessions they know.
            raise Unavailable("the ended sessions are being read; retry")
        return ids

    def _revoke(self, refresh_token: str) -> tuple[int, str | None]:
        owner, _, secret = refresh_token.partition(".")
        try:
            shard = self.shards.for_id(int(owner)).name if secret else None
        except (ValueError, InvalidArgument):
            shard = None
        found = self.store.revoke(shard, _digest(refresh_token)) if shard else None
        if found is None or str(found[0]) != owner:
            raise Unauthenticated("the refresh token is invalid, expired or revoked")
        return found

    def _open(self, user_id: int, role: str, region: str, session_id: str) -> Session:
        minted = self.signer.mint(str(user_id), role, region=region, session_id=session_id)
        refresh = f"{user_id}.{secrets.token_urlsafe(32)}"
        refresh_expires = datetime.now(UTC) + REFRESH_TTL
        self.store.save(self.shards.for_id(user_id).name, user_id, _digest(refresh), refresh_expires, session_id)
        return Session(user_id, minted.token, datetime.fromtimestamp(minted.expires_at, UTC), refresh,
                       refresh_expires)
