# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Over real TLS: Service Fabric's identity server certificate is pinned by IDENTITY_SERVER_THUMBPRINT; any other
HTTPS identity endpoint is verified against the system's CAs."""

from __future__ import annotations

import datetime
import hashlib
import http.server
import ipaddress
import json
import ssl
import threading
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.managed_identity.azure.plugins.module_utils import _identity
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError, IdentityError

SECRET = "0f9e8d7c6b5a49382716a5b4c3d2e1f0"
TOKEN = "header.eyJvaWQiOiAieCJ9.signature"


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sf-identity")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    thumbprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER), usedforsecurity=False).hexdigest()
    return cert_path, key_path, thumbprint


@pytest.fixture
def server(tmp_path):
    cert_path, key_path, thumbprint = self_signed(tmp_path)
    seen = []
    answers = []  # (status, body) to send first; then tokens

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(dict(self.headers))
            status, answer = answers.pop(0) if answers else (200, {
                "token_type": "Bearer", "access_token": TOKEN, "expires_on": 1900000000,
                "resource": "https://vault.azure.net/"})
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a client refusing the certificate is what some tests expect

    httpd = Server(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = "https://127.0.0.1:%d/metadata/identity/oauth2/token" % httpd.server_address[1]
    yield url, thumbprint, seen, answers
    httpd.shutdown()
    httpd.server_close()


def environ(url, thumbprint):
    return {"IDENTITY_ENDPOINT": url, "IDENTITY_HEADER": SECRET, "IDENTITY_SERVER_THUMBPRINT": thumbprint}


def test_pinned_certificate_is_trusted_without_any_ca(server):
    url, thumbprint, seen, _answers = server
    # Windows shows thumbprints upper case, sometimes with separators.
    shown = ":".join(thumbprint[i:i + 2] for i in range(0, 40, 2)).upper()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no InsecureRequestWarning: the pin is a verification
        result = _identity.get_token("https://vault.azure.net/", environ=environ(url, shown), max_wait=0)
    assert result.source == "service_fabric"
    assert result.access_token == TOKEN
    assert seen[0]["Secret"] == SECRET


def test_another_certificate_is_refused_before_the_secret_is_sent(server):
    url, thumbprint, seen, _answers = server
    wrong = "%040x" % (int(thumbprint, 16) ^ 1)
    with pytest.raises(IdentityError) as caught:
        _identity.get_token("https://vault.azure.net/", environ=environ(url, wrong), max_wait=0)
    assert "does not match IDENTITY_SERVER_THUMBPRINT" in str(caught.value)
    assert "presented the certificate %s" % thumbprint in str(caught.value)
    assert SECRET not in str(caught.value)
    assert seen == []


def test_other_https_endpoints_verify_the_certificate_before_the_secret_is_sent(server):
    url, _thumbprint, seen, _answers = server
    env = {"IDENTITY_ENDPOINT": url, "IDENTITY_HEADER": SECRET}  # App Service: no pin, so the CAs decide
    with pytest.raises(IdentityError) as caught:
        _identity.get_token("https://vault.azure.net/", environ=env, max_wait=0)
    assert "TLS failed" in str(caught.value) and "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert seen == []


def test_service_fabric_error_shape(server):
    url, thumbprint, seen, answers = server
    answers.append((404, {"error": {"correlationId": "c", "code": "ManagedIdentityNotFound",
                                    "message": "Managed identity not found for the specified application host."}}))
    with pytest.raises(IdentityError) as caught:
        _identity.get_token("https://vault.azure.net/", environ=environ(url, thumbprint), max_wait=30)
    assert caught.value.code == "ManagedIdentityNotFound" and caught.value.status == 404
    assert "no system-assigned managed identity" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert len(seen) == 1  # a final answer outside IMDS: not retried


@pytest.mark.parametrize(
    "env, fragment",
    [
        ({"IDENTITY_SERVER_THUMBPRINT": "not-hex"}, "is not a SHA-1 certificate thumbprint"),
        ({"IDENTITY_ENDPOINT": "http://127.0.0.1:9/"}, "must be https://"),
        ({"IDENTITY_HEADER": ""}, "needs the environment variable IDENTITY_HEADER"),
    ],
)
def test_service_fabric_configuration_errors(env, fragment):
    base = environ("https://127.0.0.1:9/", "a" * 40)
    base.update(env)
    with pytest.raises(ConfigurationError, match=fragment):
        _identity.get_token("https://vault.azure.net/", source="service_fabric", environ=base, max_wait=0)
