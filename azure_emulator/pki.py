"""A CA generated for this world, and server certificates for 127.0.0.1/localhost issued by it.

The key material lives in ``world.keys`` so that, with ``--state``, a restart keeps the CA a client already trusts.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=825)


@dataclass
class ServerCert:
    cert_path: Path
    key_path: Path
    thumbprint: str        # SHA-1 of the DER certificate, upper-case hex (what Service Fabric pins)

    def ssl_context(self) -> ssl.SSLContext:
        # A bare server context: create_default_context() would also load the system CA store (slow, unused).
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)


class PKI:
    """Owns the CA; ``keys`` is the persisted dict (``world.keys['pki']``), ``workdir`` a private temp dir."""

    def __init__(self, keys: dict, workdir: Path) -> None:
        self.workdir = workdir
        if "ca_key" not in keys:
            keys.update(self._new_ca())
        self._keys = keys
        self._ca_key = serialization.load_pem_private_key(keys["ca_key"].encode(), None)
        self._ca_cert = x509.load_pem_x509_certificate(keys["ca_cert"].encode())
        self.ca_bundle = workdir / "ca.pem"
        self.ca_bundle.write_text(keys["ca_cert"], encoding="ascii")
        self.server = self.issue_server_cert("server")

    @staticmethod
    def _new_ca() -> dict:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Azure Emulator Test CA"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "azure_emulator")])
        now = datetime.datetime.now(datetime.timezone.utc)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(ski, critical=False)
                .sign(key, hashes.SHA256()))
        return {"ca_key": _pem_key(key), "ca_cert": cert.public_bytes(serialization.Encoding.PEM).decode()}

    def issue_server_cert(self, label: str) -> ServerCert:
        """A leaf for 127.0.0.1 and localhost, persisted under ``label`` so its thumbprint survives a restart."""
        stored = self._keys.setdefault("servers", {})
        if label not in stored:
            stored[label] = self._new_leaf()
        cert_pem, key_pem = stored[label]["cert"], stored[label]["key"]
        cert_path, key_path = self.workdir / f"{label}-cert.pem", self.workdir / f"{label}-key.pem"
        cert_path.write_text(cert_pem, encoding="ascii")
        _write_private(key_path, key_pem)
        der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
        return ServerCert(cert_path, key_path, hashlib.sha1(der).hexdigest().upper())  # noqa: S324 (a thumbprint)

    def _new_leaf(self) -> dict:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                .issuer_name(self._ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, key_agreement=True,
                                             content_commitment=False, data_encipherment=False,
                                             key_cert_sign=False, crl_sign=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()),
                               critical=False)
                .sign(self._ca_key, hashes.SHA256()))
        return {"cert": cert.public_bytes(serialization.Encoding.PEM).decode(), "key": _pem_key(key)}
