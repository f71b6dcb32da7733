# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which certificate authorities TLS trusts: the system's, plus the one ``ca_path`` names.

TLS verification is never turned off. Where the trust store comes from, first that applies:

1. ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE``: that PEM file (what requests and curl users already set);
2. ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``: OpenSSL's own variables, honoured by OpenSSL;
3. the system's hashed certificate directory (``/etc/ssl/certs`` on Debian, Ubuntu, Alpine, SUSE), which
   OpenSSL reads lazily, one file per certificate a chain needs: loading the whole bundle instead costs a
   module run 15 ms and more, at every task on every host;
4. OpenSSL's default bundle (Red Hat family, macOS with python.org's certificates installed), else
   certifi's when it is installed.

``ca_path`` adds one PEM file to that store; it never replaces it. A bad ``ca_path`` is a ConfigurationError that
names the option.
"""

from __future__ import annotations

import os
import re
import ssl
from typing import Mapping, Optional

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError

_HASHED_NAME = re.compile(r"^[0-9a-f]{8}\.[0-9]+$")


def context(ca_path: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> ssl.SSLContext:
    """A client context that verifies certificates and host names against the trust store above plus ``ca_path``."""
    env = os.environ if environ is None else environ
    tls = _system_context(env)
    if ca_path:
        _check_pem(ca_path)
        try:
            tls.load_verify_locations(cafile=ca_path)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                "ca_path=%r cannot be used as a CA certificate (%s); give the path of a PEM file with the CA "
                "certificate to trust" % (ca_path, getattr(exc, "reason", None) or exc.__class__.__name__)
            ) from None
    return tls


def _system_context(env: Mapping[str, str]) -> ssl.SSLContext:
    bundle = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE")
    if bundle:
        try:
            return ssl.create_default_context(cafile=bundle)
        except (OSError, ssl.SSLError) as exc:
            name = "REQUESTS_CA_BUNDLE" if env.get("REQUESTS_CA_BUNDLE") else "CURL_CA_BUNDLE"
            raise ConfigurationError(
                "%s=%r cannot be used as a CA bundle (%s); point it at a PEM file or unset it"
                % (name, bundle, getattr(exc, "reason", None) or exc.strerror or exc.__class__.__name__)
            ) from None
    if env.get("SSL_CERT_FILE") or env.get("SSL_CERT_DIR"):
        return ssl.create_default_context()
    directory = ssl.get_default_verify_paths().capath
    if directory and _is_hashed_directory(directory):
        return ssl.create_default_context(capath=directory)
    tls = ssl.create_default_context()
    if not tls.cert_store_stats()["x509_ca"]:
        try:
            import certifi  # optional: a system without CAs of its own (python.org builds on macOS)
        except ImportError:
            return tls
        tls.load_verify_locations(cafile=certifi.where())
    return tls


def _is_hashed_directory(path: str) -> bool:
    """Whether ``path`` holds certificates under OpenSSL's subject-hash names (c_rehash / update-ca-certificates)."""
    try:
        with os.scandir(path) as entries:
            return any(_HASHED_NAME.match(entry.name) for entry in entries)
    except OSError:
        return False


def _check_pem(ca_path: str) -> None:
    try:
        with open(ca_path, "rb") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigurationError(
            "ca_path=%r cannot be read (%s); give the path of a PEM file with the CA certificate to trust"
            % (ca_path, exc.strerror or exc.__class__.__name__)
        ) from None
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigurationError("ca_path=%r holds no PEM certificate (-----BEGIN CERTIFICATE-----)" % ca_path)
