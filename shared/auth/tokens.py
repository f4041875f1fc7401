"""Access tokens: JWTs signed with Ed25519 (EdDSA), minted by a signer and verified against the JWKS.

A verifier takes the algorithm from the key, never from the token's header: only EdDSA with an OKP key is
accepted, so `alg: none` and HS256 "signed" with a public key both fail. It checks the issuer, the audience,
exp/nbf/iat (with a small leeway), and that the key's signer may sign for the token's subject.
"""
from __future__ import annotations

import pathlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK

from shared.auth import keys
from shared.auth.caller import ROLES, Caller

ISSUER = "elearn"
AUDIENCE = "elearn-api"
ALGORITHM = "EdDSA"
LEEWAY_S = 5
ACCESS_TTL_S = 15 * 60
SERVICE_TTL_S = 5 * 60
JWKS_RELOAD_S = 1.0  # at most one JWKS reload per second, however many unknown kids arrive
CACHE_SIZE = 4096


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why in words safe to return to the caller."""


@dataclass(frozen=True)
class Minted:
    token: str
    kid: str
    expires_at: float


class Signer:
    """Mints tokens with the current key of one signer of an auth directory."""

    def __init__(self, auth_dir: pathlib.Path, signer: str, clock: Callable[[], float] = time.time):
        self.auth_dir = auth_dir
        self.signer = signer
        self.clock = clock

    def mint(self, subject: str, role: str, *, region: str = "", ttl_s: int = ACCESS_TTL_S,
             not_before: float | None = None) -> Minted:
        kid, key = keys.signing_key(self.auth_dir, self.signer)
        now = int(self.clock())
        claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "role": role, "iat": now,
                                  "nbf": int(not_before) if not_before is not None else now,
                                  "exp": now + ttl_s, "jti": secrets.token_hex(8)}
        if region:
            claims["region"] = region
        token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})
        return Minted(token, kid, now + ttl_s)


def user_token(auth_dir: pathlib.Path, user_id: int, role: str, region: str = "", ttl_s: int = ACCESS_TTL_S) -> str:
    """A person's access token minted from the data folder's key (`elearn token`, the tests, the seed)."""
    return Signer(auth_dir, keys.PEOPLE).mint(str(user_id), role, region=region, ttl_s=ttl_s).token


class ServiceToken:
    """A service's own identity token, minted again a minute before it expires; shared by all threads."""

    def __init__(self, auth_dir: pathlib.Path, service: str):
        self._signer = Signer(auth_dir, keys.service_signer(service))
        self._subject = f"service:{service}"
        self._minted: Minted | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        minted = self._minted
        if minted is None or minted.expires_at - time.time() < 60:
            with self._lock:
                minted = self._minted = self._signer.mint(self._subject, "SERVICE", ttl_s=SERVICE_TTL_S)
        return minted.token


def _caller(claims: dict[str, Any], signer: str) -> Caller:
    """The caller the claims name, once the key's signer is shown to be allowed to sign for it."""
    subject, role = claims.get("sub"), claims.get("role")
    if not isinstance(subject, str) or not isinstance(role, str):
        raise InvalidToken("the token lacks its subject or role")
    if role == "SERVICE":
        service = subject.removeprefix("service:")
        if subject == service or signer != keys.service_signer(service):
            raise InvalidToken("the token's key may not sign for its subject")
        return Caller.service(service)
    if signer != keys.PEOPLE or role not in ROLES:
        raise InvalidToken("the token's key may not sign for its subject")
    try:
        user_id = int(subject)
    except ValueError:
        raise InvalidToken("the token's subject is not a user ID") from None
    region = claims.get("region", "")
    return Caller.user(user_id, role, region if isinstance(region, str) else "")


class Verifier:
    """Verifies tokens against the JWKS file of an auth directory, caching each verified token until it
    expires (a token is verified once per process, not once per call)."""

    def __init__(self, auth_dir: pathlib.Path | None, clock: Callable[[], float] = time.time):
        self.auth_dir = auth_dir
        self.clock = clock
        self._keys: dict[str, tuple[PyJWK, str]] = {}
        self._loaded_at = -JWKS_RELOAD_S
        self._cache: OrderedDict[str, tuple[Caller, float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._reload(force=True)

    def _reload(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.auth_dir is None or (not force and now - self._loaded_at < JWKS_RELOAD_S):
            return
        self._loaded_at = now
        loaded = {}
        for entry in keys.read_jwks(self.auth_dir)["keys"]:
            if entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519" and entry.get("alg") == ALGORITHM:
                loaded[entry["kid"]] = (PyJWK(entry, algorithm=ALGORITHM), entry.get("elearn_signer", ""))
        self._keys = loaded

    def _key(self, kid: object) -> tuple[PyJWK, str]:
        if not isinstance(kid, str):
            raise InvalidToken("the token names no key (kid)")
        found = self._keys.get(kid)
        if found is None:
            with self._lock:
                self._reload()
            found = self._keys.get(kid)
        if found is None:
            raise InvalidToken("the token's key (kid) is unknown or retired")
        return found

    def verify(self, token: str) -> Caller:
        now = self.clock()
        cached = self._cache.get(token)
        if cached is not None:
            if now >= cached[2] + LEEWAY_S:
                raise InvalidToken("the token has expired")
            if cached[1] - LEEWAY_S <= now:
                return cached[0]
        try:
            header = jwt.get_unverified_header(token)
            key, signer = self._key(header.get("kid"))
            claims = jwt.decode(token, key.key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                                leeway=LEEWAY_S, options={"require": ["exp", "nbf", "iat", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not valid yet") from None
        except jwt.InvalidTokenError:
            raise InvalidToken("the token is malformed or its signature, issuer or audience is wrong") from None
        caller = _caller(claims, signer)
        with self._lock:
            self._cache[token] = (caller, float(claims["nbf"]), float(claims["exp"]))
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return caller
