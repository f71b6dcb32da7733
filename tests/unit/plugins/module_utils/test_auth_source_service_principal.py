# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_source=service_principal: what goes on the wire, which options it needs, and that no secret leaks."""

from __future__ import annotations

import json

import pytest
from support.entra_token_endpoint import BAD_SECRET, CLIENT, SECRET, TENANT, TokenEndpoint, ok, response

from ansible_collections.managed_identity.azure.plugins.module_utils._authenticator import build_credential
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AuthenticationError,
    ConfigurationError,
)

CLOUD = resolve_cloud(None, None, None, None)


def test_service_principal_posts_v2_client_credentials_with_double_slash_scope():
    endpoint = TokenEndpoint(ok())
    params = {"auth_source": "service_principal", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET}
    credential = build_credential(params, CLOUD, environ={}, session=endpoint)
    token = credential.get_token()
    assert token.token.startswith("eyJ0eXAi")
    post = endpoint.posts[0]
    assert post["url"] == "https://login.microsoftonline.com/%s/oauth2/v2.0/token" % TENANT
    # azure-cli resource_to_scopes: the audience's trailing slash is kept.
    assert post["data"] == {
        "client_id": CLIENT,
        "client_secret": SECRET,
        "grant_type": "client_credentials",
        "scope": "https://management.core.windows.net//.default",
    }


def test_custom_audience_without_trailing_slash_gets_a_single_slash():
    cloud = resolve_cloud(None, "https://127.0.0.1:8443", "https://127.0.0.1:9443", "https://management.azure.com")
    endpoint = TokenEndpoint(ok())
    params = {"auth_source": "service_principal", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET}
    build_credential(params, cloud, environ={}, session=endpoint).get_token()
    assert endpoint.posts[0]["data"]["scope"] == "https://management.azure.com/.default"
    assert endpoint.posts[0]["url"].startswith("https://127.0.0.1:9443/")


def test_wrong_secret_gives_aadsts_message_and_ids_but_never_the_secret():
    endpoint = TokenEndpoint(response(401, BAD_SECRET))
    params = {"auth_source": "service_principal", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET}
    with pytest.raises(AuthenticationError) as caught:
        build_credential(params, CLOUD, environ={}, session=endpoint).get_token()
    err = caught.value
    text = str(err)
    assert err.status == 401 and err.code == "invalid_client"
    assert "AADSTS7000215: Invalid client secret provided." in text
    assert CLIENT in text and TENANT in text
    assert "Trace ID" not in text  # moved to request_id
    assert err.request_id == BAD_SECRET["trace_id"]
    assert SECRET not in text and SECRET not in json.dumps(err.fail_kwargs())


def test_explicit_source_with_missing_options_names_option_and_env_var():
    with pytest.raises(ConfigurationError) as caught:
        build_credential(
            {"auth_source": "service_principal", "client_id": CLIENT}, CLOUD, environ={}, session=None
        )
    assert "tenant_id (or AZURE_TENANT_ID)" in str(caught.value)
    assert "client_secret (or AZURE_CLIENT_SECRET)" in str(caught.value)


def test_options_win_over_environment():
    endpoint = TokenEndpoint(ok())
    env = {"AZURE_TENANT_ID": "env-tenant", "AZURE_CLIENT_ID": "env-client", "AZURE_CLIENT_SECRET": "env-secret"}
    params = {"auth_source": "auto", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET}
    build_credential(params, CLOUD, environ=env, session=endpoint).get_token()
    assert endpoint.posts[0]["data"]["client_id"] == CLIENT
    assert TENANT in endpoint.posts[0]["url"]
