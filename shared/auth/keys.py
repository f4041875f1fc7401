"""Signing keys in the data folder's `auth/` directory, and the JWKS file every process verifies with.

Each signer has its own Ed25519 key: `people` (the users service signs people's access tokens with it) and
`service-<name>` (a service's own identity for the calls it makes). A key lives in `keys/<kid>.pem` (mode 0600),
the signer's current kid in `signers/<signer>`, and every public key in `jwks.json`, each entry naming the one
signer it may sign for (`elearn_signer`), so a service key cannot mint a person's token.

Rotation (`elearn rotate-keys`): a new key becomes the signer's current key, its public half joins the JWKS,
and the signer's previous key stays published so the tokens it signed stay valid until they expire; older
keys of that signer leave the JWKS. Verifiers reload the JWKS when they meet an unknown kid.
"""
from __future__ import annotations

import json
import os
import pathlib
import secrets
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.utils import base64url_encode

PEOPLE = "people"
KEPT_PER_SIGNER = 2  # the current key and the one before it: two keys valid during a rotation


def service_signer(service: str) -> str:
    return f"service-{service}"


def _write_private(path: pathlib.Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _replace(path: pathlib.Path, text: str) -> None:
    """Write `text` atomically: a reader sees the old file or the new one, never half of it."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    tmp.write_text(text)
    tmp.replace(path)


def read_jwks(auth_dir: pathlib.Path) -> dict[str, Any]:
    path = auth_dir / "jwks.json"
    if not path.exists():
        return {"keys": []}
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def public_jwk(key: Ed25519PrivateKey, kid: str, signer: str) -> dict[str, str]:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64url_encode(raw).decode(), "kid": kid, "alg": "EdDSA",
            "use": "sig", "elearn_signer": signer}


def new_key(auth_dir: pathlib.Path, signer: str) -> str:
    """Make a key for `signer`, publish it, make it current and drop its keys older than the previous one."""
    key = Ed25519PrivateKey.generate()
    kid = f"{signer}-{secrets.token_hex(6)}"
    _write_private(auth_dir / "keys" / f"{kid}.pem", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    entries = read_jwks(auth_dir)["keys"]
    mine = [e for e in entries if e.get("elearn_signer") == signer]
    retired = {e["kid"] for e in mine[:max(0, len(mine) - (KEPT_PER_SIGNER - 1))]}
    kept = [e for e in entries if e["kid"] not in retired]
    _replace(auth_dir / "jwks.json", json.dumps({"keys": [*kept, public_jwk(key, kid, signer)]}, indent=2) + "\n")
    (auth_dir / "signers").mkdir(parents=True, exist_ok=True)
    _replace(auth_dir / "signers" / signer, kid + "\n")
    for old in retired:
        (auth_dir / "keys" / f"{old}.pem").unlink(missing_ok=True)
    return kid


def ensure_keys(auth_dir: pathlib.Path, signers: Iterable[str]) -> list[str]:
    """Make a key for each signer that has none (what `elearn up` runs); returns the signers given one."""
    made = []
    for signer in signers:
        if not (auth_dir / "signers" / signer).exists():
            new_key(auth_dir, signer)
            made.append(signer)
    return made


def signing_key(auth_dir: pathlib.Path, signer: str) -> tuple[str, Ed25519PrivateKey]:
    """The current (kid, private key) of `signer`; read from disk on each call so a rotation is seen at once."""
    kid = (auth_dir / "signers" / signer).read_text().strip()
    key = serialization.load_pem_private_key((auth_dir / "keys" / f"{kid}.pem").read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"the key {kid} is not an Ed25519 key")
    return kid, key
