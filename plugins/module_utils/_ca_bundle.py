# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ca_path`` option for the ARM transport (requests): one more trusted CA, on top of the default ones.

TLS verification is never turned off; a bad ``ca_path`` is a ConfigurationError that names the option.
(The standard-library transport of the identity endpoints, ``_http``, loads ``ca_path`` itself.)
"""

from __future__ import annotations

import atexit
import os
import tempfile
from typing import Any, Mapping

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError

try:
    import requests
except ImportError:  # reported by AzureModule through missing_required_lib
    HAS_REQUESTS = False
else:
    HAS_REQUESTS = True


def combined_bundle(ca_path: str, environ: Mapping[str, str]) -> str:
    """A temporary PEM file holding the default trust store plus ``ca_path``.

    ``verify=<path>`` in requests replaces the default bundle instead of adding to it, so trusting
    one more CA means handing requests both. The default is what requests would use on its own
    (REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, else certifi's bundle). The file is removed at exit.
    """
    try:
        with open(ca_path, "rb") as handle:
            extra = handle.read()
    except OSError as exc:
        raise ConfigurationError(
            "ca_path=%r cannot be read (%s); give the path of a PEM file with the CA certificate to trust"
            % (ca_path, exc.strerror or exc.__class__.__name__)
        ) from None
    if b"-----BEGIN CERTIFICATE-----" not in extra:
        raise ConfigurationError("ca_path=%r holds no PEM certificate (-----BEGIN CERTIFICATE-----)" % ca_path)
    base_path = (
        environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or requests.utils.DEFAULT_CA_BUNDLE_PATH
    )
    base = b""
    if base_path and os.path.isfile(base_path):
        with open(base_path, "rb") as handle:
            base = handle.read()
    fd, path = tempfile.mkstemp(prefix="managed_identity_azure_ca_", suffix=".pem")
    with os.fdopen(fd, "wb") as handle:
        handle.write(base.rstrip(b"\n") + b"\n" + extra)
    atexit.register(_remove, path)
    return path


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


if HAS_REQUESTS:

    class _PinnedVerifySession(requests.Session):
        """A session whose ``verify`` is not replaced by REQUESTS_CA_BUNDLE (request-level env wins in requests)."""

        def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[override]
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            settings["verify"] = self.verify
            return settings


def session_trusting(ca_path: str, environ: Mapping[str, str]) -> Any:
    """A ``requests.Session`` that trusts ``ca_path`` in addition to the default CAs, whatever the environment says."""
    session = _PinnedVerifySession()
    session.verify = combined_bundle(ca_path, environ)
    return session
