"""Access tokens against the verifier: every forgery, a stale or early token and a retired key are refused;
a rotation keeps the previous key's tokens valid and signs new ones with the new kid."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import keys
from shared.auth.tokens import AUDIENCE, ISSUER, InvalidToken, Signer, Verifier, user_token
from tests.unit.auth_keys import auth_dir


@pytest.fixture
def folder():
    made = auth_dir()
    keys.ensure_keys(made, [keys.service_signer("courses")])
    return made


def claims(**override):
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "42", "role": "STUDENT", "iat": now, "nbf": now,
            "exp": now + 60, **override}


def current_kid(folder) -> str:
    return (folder / "signers" / keys.PEOPLE).read_text().strip()


def signed(folder, body, **headers) -> str:
    kid, key = keys.signing_key(folder, keys.PEOPLE)
    return jwt.encode(body, key, algorithm="EdDSA", headers={"kid": kid, **headers})


def refused(folder, token: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        Verifier(folder).verify(token)
    return str(caught.value)


def test_a_good_token_names_its_user_and_role(folder):
    caller = Verifier(folder).verify(user_token(folder, 42, "INSTRUCTOR", "EUROPE"))
    assert (caller.kind, caller.user_id, caller.role, caller.region) == ("user", 42, "INSTRUCTOR", "EUROPE")


def test_expired_and_not_yet_valid_tokens_are_refused(folder):
    now = int(time.time())
    assert "expired" in refused(folder, signed(folder, claims(iat=now - 120, nbf=now - 120, exp=now - 60)))
    assert "not valid yet" in refused(folder, signed(folder, claims(nbf=now + 60, exp=now + 120)))


def test_a_token_signed_by_another_key_is_refused(folder):
    forged = jwt.encode(claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA",
                        headers={"kid": current_kid(folder)})
    assert "signature" in refused(folder, forged)


def test_alg_none_is_refused(folder):
    header = {"alg": "none", "typ": "JWT", "kid": current_kid(folder)}
    token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims(role='ADMIN')).encode())}."
    refused(folder, token)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(secret: bytes, header: dict, body: dict) -> str:
    """Signed by hand: PyJWT itself refuses to use a public key as an HMAC secret."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def test_hs256_signed_with_the_public_key_is_refused(folder):
    public = next(k for k in keys.read_jwks(folder)["keys"] if k["kid"] == current_kid(folder))
    header = {"alg": "HS256", "typ": "JWT", "kid": current_kid(folder)}
    for secret in (base64.urlsafe_b64decode(public["x"] + "=="), public["x"].encode(), json.dumps(public).encode()):
        refused(folder, hs256(secret, header, claims(role="ADMIN")))


def test_unknown_kid_wrong_audience_and_wrong_issuer_are_refused(folder):
    assert "unknown" in refused(folder, signed(folder, claims(), kid="people-feedbeef0000"))
    refused(folder, signed(folder, claims(aud="another-api")))
    refused(folder, signed(folder, claims(iss="someone-else")))
    refused(folder, signed(folder, {k: v for k, v in claims().items() if k != "exp"}))


def test_a_service_key_cannot_sign_for_a_person_nor_for_another_service(folder):
    courses = Signer(folder, keys.service_signer("courses"))
    assert "may not sign" in refused(folder, courses.mint("1", "ADMIN").token)
    assert "may not sign" in refused(folder, courses.mint("service:sso", "SERVICE").token)
    assert Verifier(folder).verify(courses.mint("service:courses", "SERVICE").token).identity == "service:courses"


def test_people_key_cannot_sign_a_service_identity(folder):
    assert "may not sign" in refused(folder, Signer(folder, keys.PEOPLE).mint("service:sso", "SERVICE").token)


def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_kid(folder):
    verifier = Verifier(folder)
    old_kid = current_kid(folder)
    old = user_token(folder, 7, "STUDENT")
    new_kid = keys.new_key(folder, keys.PEOPLE)
    new = user_token(folder, 7, "STUDENT")
    assert jwt.get_unverified_header(new)["kid"] == new_kid != old_kid
    time.sleep(1.1)  # the verifier reloads the JWKS at most once a second
    assert verifier.verify(old).user_id == 7 and verifier.verify(new).user_id == 7
    keys.new_key(folder, keys.PEOPLE)  # a second rotation retires the first key
    assert "unknown" in refused(folder, old)
    assert Verifier(folder).verify(new).user_id == 7


def test_a_cached_token_is_still_refused_once_expired(folder):
    now = [time.time()]
    verifier = Verifier(folder, clock=lambda: now[0])
    token = signed(folder, claims(exp=int(now[0]) + 10))
    assert verifier.verify(token).user_id == 42
    now[0] += 60
    with pytest.raises(InvalidToken):
        verifier.verify(token)
