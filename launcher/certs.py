"""The local cluster's certificates: a CA and one key + certificate per process, made with `cryptography`.

Files live in <data-dir>/tls/ (`ca.crt`, `<name>.crt`, `<name>.key`); the CA's key stays there too so a warm
start can sign a certificate that is missing. Everything already present and still valid for a week is reused,
so a warm start changes nothing. Private keys are 0600; a PostgreSQL node's key is given to the postgres user.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import pathlib
from dataclasses import dataclass

from cryptography import exceptions, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
LEAF_DAYS = 365
RENEW_BEFORE = datetime.timedelta(days=7)
LOCAL_NAMES = ("localhost",)
LOCAL_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class Pair:
    """A certificate and its private key, as files."""

    cert: pathlib.Path
    key: pathlib.Path


class Authority:
    """The CA of one data folder: made once, then loaded; signs the certificate of each process."""

    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o755)
        self.ca = Pair(folder / "ca.crt", folder / "ca.key")
        if not _usable(self.ca):
            _write(self.ca, *self._new_ca())
        self._key = serialization.load_pem_private_key(self.ca.key.read_bytes(), None)
        self._cert = x509.load_pem_x509_certificate(self.ca.cert.read_bytes())

    def _new_ca(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "elearn local CA")])
        cert = (_builder(name, name, key.public_key(), CA_DAYS)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return key, cert

    def issue(self, name: str, hosts: tuple[str, ...] = ()) -> Pair:
        """`<name>.crt` / `<name>.key`, valid as server and client, for `name`, localhost and the loopback IPs
        plus `hosts`; reused when present, signed by this CA and not about to expire."""
        pair = Pair(self.folder / f"{name}.crt", self.folder / f"{name}.key")
        if _usable(pair, self._cert):
            return pair
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        dns = [x509.DNSName(h) for h in dict.fromkeys((name, *hosts, *LOCAL_NAMES))]
        ips = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in LOCAL_IPS]
        cert = (_builder(subject, self._cert.subject, key.public_key(), LEAF_DAYS)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.SubjectAlternativeName([*dns, *ips]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                      ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                               critical=False)
                .sign(self._key, hashes.SHA256()))
        _write(pair, key, cert)
        return pair


def _builder(subject: x509.Name, issuer: x509.Name, public_key, days: int) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))  # a little clock skew between processes
            .not_valid_after(now + datetime.timedelta(days=days)))


def _usable(pair: Pair, issuer: x509.Certificate | None = None) -> bool:
    """Both files exist, the certificate is valid for another week and (for a leaf) signed by `issuer`."""
    if not (pair.cert.exists() and pair.key.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
        if issuer is not None:
            cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, exceptions.InvalidSignature):
        return False
    return cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > RENEW_BEFORE


def _write(pair: Pair, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    """The key first, created 0600 (never readable by others, not even for a moment), then the certificate."""
    pair.key.unlink(missing_ok=True)
    fd = os.open(pair.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pair.cert.chmod(0o644)
