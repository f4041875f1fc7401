"""Signing keys in a temporary auth directory, for unit tests that run real servers of elearning methods."""
from __future__ import annotations

import atexit
import dataclasses
import pathlib
import shutil
import tempfile

import grpc

from shared.auth import keys
from shared.auth.client import with_token
from shared.auth.tokens import user_token
from shared.settings import Settings


def auth_dir() -> pathlib.Path:
    folder = pathlib.Path(tempfile.mkdtemp(prefix="elearn-auth-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # one per test server: gone when the run ends
    keys.ensure_keys(folder, [keys.PEOPLE, keys.service_signer("sso")])
    return folder


def with_auth(settings: Settings, folder: pathlib.Path) -> Settings:
    return dataclasses.replace(settings, auth_dir=str(folder))


def admin_channel(address: str, folder: pathlib.Path) -> grpc.Channel:
    token = user_token(folder, 1, "ADMIN")
    return with_token(grpc.insecure_channel(address), lambda: token)
