"""launcher.compose_secrets: the files docker-compose.yml names, made once, each container's key private."""
from __future__ import annotations

import re
import stat

from cryptography import x509

from launcher.compose_secrets import CERTIFICATES, main, make
from tests.unit.test_compose import ROOT


def test_every_file_the_compose_file_names_is_made_once(tmp_path, capsys):
    assert sorted(make(tmp_path)) == sorted(CERTIFICATES)
    before = {p.name: p.read_bytes() for p in (tmp_path / "tls").iterdir()}
    assert main([str(tmp_path)]) == 0 and "nothing changed" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in (tmp_path / "tls").iterdir()} == before
    # The auth/ files are launcher.deploy_keys's (tests/unit/test_compose.py); the tls/ ones are made here.
    named = set(re.findall(r"file: \./deploy/secrets/(tls/\S+)\}", (ROOT / "docker-compose.yml").read_text()))
    assert named and all((tmp_path / name).exists() for name in named), named
    for key in (tmp_path / "tls").glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_each_container_certificate_names_its_compose_host(tmp_path):
    make(tmp_path)
    cert = x509.load_pem_x509_certificate((tmp_path / "tls" / "payments.crt").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "payments" in names.get_values_for_type(x509.DNSName)
