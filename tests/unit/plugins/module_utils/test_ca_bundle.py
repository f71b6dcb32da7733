# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ca_path for the ARM transport: one more trusted CA on top of the default ones, never verification off."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from ansible_collections.managed_identity.azure.plugins.module_utils import _ca_bundle
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError

ARM = "https://management.azure.com"

PEM = "-----BEGIN CERTIFICATE-----\nMIIBemulator\n-----END CERTIFICATE-----\n"


def test_ca_path_is_added_to_the_default_bundle(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text(PEM)
    session = _ca_bundle.session_trusting(str(ca), environ={})
    bundle = Path(session.verify).read_text()
    assert bundle.endswith(PEM)
    assert Path(requests.utils.DEFAULT_CA_BUNDLE_PATH).read_text().strip()[:200] in bundle
    # REQUESTS_CA_BUNDLE in the environment must not silently replace the combined bundle.
    os.environ["REQUESTS_CA_BUNDLE"] = str(ca)
    try:
        settings = session.merge_environment_settings(ARM, {}, False, None, None)
    finally:
        del os.environ["REQUESTS_CA_BUNDLE"]
    assert settings["verify"] == session.verify


@pytest.mark.parametrize("content", [None, "not a certificate"])
def test_bad_ca_path_names_the_option(tmp_path, content):
    ca = tmp_path / "ca.pem"
    if content is not None:
        ca.write_text(content)
    with pytest.raises(ConfigurationError, match="ca_path="):
        _ca_bundle.session_trusting(str(ca), environ={})
