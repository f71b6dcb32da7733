# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which CAs TLS trusts: the system's (read lazily from a hashed directory where there is one), plus ca_path;
REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE as requests users know them; verification never off."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess

import pytest
from support.tls_servers import JsonServer, make_pki

from ansible_collections.managed_identity.azure.plugins.module_utils import _tls_trust
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def server(pki):
    running = JsonServer(pki)
    yield running
    running.stop()


def handshake(context: ssl.SSLContext, server: JsonServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), 5) as sock:
        with context.wrap_socket(sock, server_hostname="127.0.0.1"):
            pass


def hashed_directory(tmp_path, ca_pem):
    """A c_rehash-style directory holding only ``ca_pem``, under OpenSSL's subject-hash name."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("needs the openssl command to name the certificate by its subject hash")
    subject_hash = subprocess.run(
        [openssl, "x509", "-hash", "-noout", "-in", str(ca_pem)], check=True, capture_output=True, text=True
    ).stdout.strip()
    directory = tmp_path / "certs"
    directory.mkdir()
    shutil.copy(ca_pem, directory / ("%s.0" % subject_hash))
    return directory


def test_ca_path_is_trusted_on_top_of_the_system_store(pki, server, tmp_path, monkeypatch):
    system = hashed_directory(tmp_path, pki["ca"])
    other = make_pki(tmp_path, "another test CA")  # given as ca_path
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: _paths(capath=str(system)))
    context = _tls_trust.context(str(other["ca"]), environ={})
    handshake(context, server)  # the system's CA still counts
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_the_system_store_in_a_hashed_directory_is_read_lazily(pki, server, tmp_path, monkeypatch):
    system = hashed_directory(tmp_path, pki["ca"])
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: _paths(capath=str(system)))
    context = _tls_trust.context(None, environ={})
    assert context.cert_store_stats()["x509_ca"] == 0  # nothing loaded up front
    handshake(context, server)
    assert context.cert_store_stats()["x509_ca"] == 1  # the one certificate the chain needed


def test_an_untrusted_server_fails_the_handshake(server, tmp_path, monkeypatch):
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: _paths(capath=str(tmp_path)))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(_tls_trust.context(None, environ={}), server)


def test_ca_path_alone_makes_the_server_trusted(pki, server):
    handshake(_tls_trust.context(str(pki["ca"]), environ={}), server)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_bundle_requests_and_curl_users_set_is_the_trust_store(pki, server, variable):
    handshake(_tls_trust.context(None, environ={variable: str(pki["ca"])}), server)


def test_a_bundle_variable_that_points_nowhere_names_the_variable(tmp_path):
    with pytest.raises(ConfigurationError, match=r"REQUESTS_CA_BUNDLE='.*/missing.pem' cannot be used as a CA bundle"):
        _tls_trust.context(None, environ={"REQUESTS_CA_BUNDLE": str(tmp_path / "missing.pem")})


@pytest.mark.parametrize(
    "content, message",
    [
        (None, r"ca_path='.*/ca.pem' cannot be read \(No such file or directory\); give the path of a PEM file"),
        ("not a certificate", r"ca_path='.*/ca.pem' holds no PEM certificate"),
        (
            "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n",
            r"ca_path='.*/ca.pem' cannot be used as a CA certificate",
        ),
    ],
)
def test_a_bad_ca_path_names_the_option(tmp_path, content, message):
    ca = tmp_path / "ca.pem"
    if content is not None:
        ca.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        _tls_trust.context(str(ca), environ={})


def _paths(capath):
    """ssl.get_default_verify_paths() of a system whose only store is the hashed directory ``capath``."""
    return ssl.DefaultVerifyPaths(None, capath, "SSL_CERT_FILE", None, "SSL_CERT_DIR", capath)
