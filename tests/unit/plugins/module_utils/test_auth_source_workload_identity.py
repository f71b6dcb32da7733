# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_source=workload_identity: the federated token file is the client assertion, read again for each token."""

from __future__ import annotations

import pytest
from support.entra_token_endpoint import CLIENT, TENANT, TokenEndpoint, ok

from ansible_collections.managed_identity.azure.plugins.module_utils._authenticator import build_credential
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError

CLOUD = resolve_cloud(None, None, None, None)


def test_workload_identity_sends_the_file_as_client_assertion_and_rereads_it(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("header.first-federated.sig\n")
    endpoint = TokenEndpoint(ok(), ok())
    env = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT, "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}
    credential = build_credential({"auth_source": "auto"}, CLOUD, environ=env, session=endpoint)
    credential.get_token()
    token_file.write_text("header.rotated.sig")
    credential.get_token(force_refresh=True)
    first, second = (p["data"] for p in endpoint.posts)
    assert first["client_assertion"] == "header.first-federated.sig"
    assert first["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in first
    assert second["client_assertion"] == "header.rotated.sig"
    assert credential.description == "workload_identity client_id %s in tenant %s" % (CLIENT, TENANT)


def test_workload_identity_missing_file_names_the_option(tmp_path):
    params = {
        "auth_source": "workload_identity",
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "federated_token_file": str(tmp_path / "missing"),
    }
    with pytest.raises(ConfigurationError, match="federated_token_file .* cannot be read"):
        build_credential(params, CLOUD, environ={}, session=TokenEndpoint()).get_token()
