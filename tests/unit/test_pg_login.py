"""The services' PostgreSQL logins: settings from the environment, the SCRAM verifier the launcher sets, and
the gids that say which service's recovery may finish a prepared write."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from launcher.pg_roles import scram_verifier
from shared.pg.login import PgLogin, role_of
from shared.pg.twophase import gid_pattern, home_of
from shared.settings import SettingsError, load_settings

PLAIN = {"ELEARN_TLS_INSECURE": "1"}


def test_no_login_variables_leave_the_dsn_user():
    assert load_settings("users", PLAIN).pg_login is None


def test_the_login_reads_the_password_from_its_file(tmp_path):
    secret = tmp_path / "pg-users"
    secret.write_text("s3cret\n")
    login = load_settings("users", {**PLAIN, "ELEARN_PG_USER": "elearn_users",
                                    "ELEARN_PG_PASSWORD_FILE": str(secret)}).pg_login
    assert login == PgLogin("elearn_users", "s3cret")
    assert login.params() == {"user": "elearn_users", "password": "s3cret"}
    assert "s3cret" not in repr(login)


@pytest.mark.parametrize(("env", "named"), [
    ({"ELEARN_PG_USER": "elearn_users"}, "ELEARN_PG_PASSWORD_FILE"),
    ({"ELEARN_PG_PASSWORD_FILE": "/x"}, "ELEARN_PG_USER"),
    ({"ELEARN_PG_USER": "elearn_users", "ELEARN_PG_PASSWORD_FILE": "/nonexistent/pg-users"},
     "ELEARN_PG_PASSWORD_FILE=/nonexistent/pg-users: cannot read"),
])
def test_an_incomplete_login_stops_the_process_naming_the_variable(env, named):
    with pytest.raises(SettingsError, match=re.escape(named)):
        load_settings("users", {**PLAIN, **env})


@pytest.mark.parametrize(("env", "named"), [
    ({"ELEARN_MONGO_USER": "elearn_content"}, "ELEARN_MONGO_PASSWORD_FILE"),
    ({"ELEARN_MONGO_PASSWORD_FILE": "/x"}, "ELEARN_MONGO_USER"),
])
def test_the_mongodb_login_is_read_the_same_way_and_names_its_own_variables(tmp_path, env, named):
    with pytest.raises(SettingsError, match=re.escape(named)):
        load_settings("content", {**PLAIN, **env})
    secret = tmp_path / "mongo-content-password"
    secret.write_text("m0ngo\n")
    login = load_settings("content", {**PLAIN, "ELEARN_MONGO_USER": "elearn_content",
                                      "ELEARN_MONGO_PASSWORD_FILE": str(secret)}).mongo_login
    assert login is not None and (login.user, login.password) == ("elearn_content", "m0ngo")
    assert load_settings("content", PLAIN).mongo_login is None


def test_an_empty_password_file_is_refused(tmp_path):
    empty = tmp_path / "pg-users"
    empty.write_text("\n")
    with pytest.raises(SettingsError, match="is empty"):
        load_settings("users", {**PLAIN, "ELEARN_PG_USER": "elearn_users", "ELEARN_PG_PASSWORD_FILE": str(empty)})


def test_the_scram_verifier_answers_the_rfc_7677_exchange():
    """RFC 7677's example (user "user", password "pencil"): the server key in our verifier signs the
    exchange's auth message with the signature the RFC gives, and the stored key checks its client proof."""
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    verifier = scram_verifier("pencil", salt, 4096)
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    assert (method, iterations_salt) == ("SCRAM-SHA-256", "4096:W22ZaJ0SNY7soEsUEjb6gQ==")
    nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    auth_message = (f"n=user,r=rOprNGfwEbeRWgbNEkqO,r={nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
                    f"c=biws,r={nonce}").encode()
    signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
    assert base64.b64encode(signature).decode() == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    proof = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    signed = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    client_key = bytes(a ^ b for a, b in zip(proof, signed, strict=True))
    assert hashlib.sha256(client_key).digest() == stored_key


def test_each_verifier_has_its_own_salt():
    assert scram_verifier("same") != scram_verifier("same")


def test_a_service_gid_is_its_own_and_the_older_form_the_admins():
    users, courses, older = "elearn:users:eu:0af3", "elearn:courses:eu:0af3", "elearn:eu:0af3"
    assert [bool(re.match(gid_pattern("users"), g)) for g in (users, courses, older)] == [True, False, False]
    assert [bool(re.match(gid_pattern(""), g)) for g in (users, courses, older)] == [False, False, True]
    assert home_of(users) == home_of(older) == "eu"
    assert role_of("payments") == "elearn_payments"
