# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The auth_source selector: every choice has a source, and auto's chain stops, probes and reports as documented."""

from __future__ import annotations

import pytest
from support.entra_token_endpoint import BAD_SECRET, CLIENT, SECRET, TENANT, TokenEndpoint, response

from ansible_collections.managed_identity.azure.plugins.module_utils import _authenticator, _host_identity_endpoints
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_options import AUTH_SOURCES
from ansible_collections.managed_identity.azure.plugins.module_utils._authenticator import build_credential
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AuthenticationError,
    ConfigurationError,
    EndpointUnreachable,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_endpoints import IdentityToken

CLOUD = resolve_cloud(None, None, None, None)


def test_auto_stops_at_a_configured_source_that_is_refused():
    endpoint = TokenEndpoint(response(401, BAD_SECRET))
    env = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT, "AZURE_CLIENT_SECRET": SECRET}
    credential = build_credential({"auth_source": "auto"}, CLOUD, environ=env, session=endpoint)
    with pytest.raises(AuthenticationError, match="AADSTS7000215"):
        credential.get_token()
    assert len(endpoint.posts) == 1


def test_auto_reports_everything_it_tried(monkeypatch, tmp_path):
    def no_imds(resource, **kwargs):
        raise EndpointUnreachable("no managed identity endpoint answered at http://127.0.0.1:9 (connection refused)")

    monkeypatch.setattr(_host_identity_endpoints, "get_token", no_imds)
    env = {"PATH": str(tmp_path), "AZURE_CLIENT_ID": CLIENT}
    credential = build_credential({"auth_source": "auto"}, CLOUD, environ=env, session=None)
    with pytest.raises(AuthenticationError) as caught:
        credential.get_token()
    text = str(caught.value)
    assert "service_principal: client_secret and AZURE_CLIENT_SECRET are not set" in text
    assert "workload_identity: federated_token_file and AZURE_FEDERATED_TOKEN_FILE are not set" in text
    assert "managed_identity: no managed identity endpoint answered" in text
    assert "cli: Azure CLI (az) is not on PATH" in text


def test_auto_uses_managed_identity_with_a_short_probe(monkeypatch):
    seen = {}

    def imds(resource, **kwargs):
        seen.update(kwargs, resource=resource)
        return IdentityToken("a.b.c", "Bearer", 2000000000, resource, "imds", "http://x", None)

    monkeypatch.setattr(_host_identity_endpoints, "get_token", imds)
    credential = build_credential({"auth_source": "auto", "timeout": 30}, CLOUD, environ={}, session=None)
    assert credential.get_token().expires_on == 2000000000
    assert seen["resource"] == "https://management.core.windows.net/"
    assert seen["max_wait"] == 0 and seen["timeout"] <= 5
    assert credential.description == "managed identity (system-assigned identity)"


def test_every_auth_source_choice_has_a_source_and_auto_tries_them_in_the_sdk_order():
    assert set(_authenticator.SOURCES) == set(AUTH_SOURCES) - {"auto"}
    assert _authenticator.AUTO_CHAIN == ("service_principal", "workload_identity", "managed_identity", "cli")


def test_an_unknown_auth_source_names_the_choices():
    with pytest.raises(ConfigurationError, match="auth_source='kerberos' is not one of auto, service_principal"):
        build_credential({"auth_source": "kerberos"}, CLOUD, environ={}, session=None)
