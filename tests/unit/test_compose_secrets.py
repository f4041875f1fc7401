"""launcher.compose_secrets: the files docker-compose.yml names, made once, each container's key private."""
from __future__ import annotations

import re
import stat

from cryptography import x509

from launcher.compose_secrets import CERTIFICATES, main, make
from shared.pg.login import PG_SERVICES
from tests.unit.test_compose import ROOT


def test_every_file_the_compose_file_names_is_made_once(tmp_path, capsys):
    passwords = [*(f"pg/pg-{service}" for service in PG_SERVICES), "pg/admin-password", "pg/replicator-password",
                 "mongo/root-password", "mongo/content-password"]
    assert sorted(make(tmp_path)) == sorted([*CERTIFICATES, *passwords, "pg/admin-pgpass"])
    before = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main([str(tmp_path)]) == 0 and "nothing changed" in capsys.readouterr().out
    assert {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    # The auth/ files are launcher.deploy_keys's (tests/unit/test_compose.py); tls/, pg/ and mongo/ are made here.
    named = set(re.findall(r"file: \./deploy/secrets/((?:tls|pg|mongo)/\S+)\}",
                           (ROOT / "docker-compose.yml").read_text()))
    assert named >= set(passwords) and all((tmp_path / name).exists() for name in named), named
    for private in [*(tmp_path / "tls").glob("*.key"), *(tmp_path / "pg").iterdir(), tmp_path / "mongo/root-password"]:
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "mongo/content-password").stat().st_mode) == 0o640  # and the mongo group
    admin = (tmp_path / "pg/admin-password").read_text().strip()
    assert (tmp_path / "pg/admin-pgpass").read_text() == f"*:*:*:elearn:{admin}\n"  # libpq's passfile format
    secrets = {(tmp_path / name).read_text().strip() for name in passwords}
    assert len(secrets) == len(passwords) and all(len(s) >= 24 for s in secrets)


def test_each_container_certificate_names_its_compose_host(tmp_path):
    make(tmp_path)
    cert = x509.load_pem_x509_certificate((tmp_path / "tls" / "payments.crt").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "payments" in names.get_values_for_type(x509.DNSName)
