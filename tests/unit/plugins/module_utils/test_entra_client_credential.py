# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client credentials grant at Entra ID: token reuse, retries, and Azure's errors without the secret."""

from __future__ import annotations

import pytest
from support.entra_token_endpoint import BAD_SECRET, CLIENT, SECRET, TENANT, TokenEndpoint, fixture, ok, response

from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._entra_client_credential import (
    EntraClientCredential,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AuthenticationError

CLOUD = resolve_cloud(None, None, None, None)


def test_token_is_cached_until_close_to_expiry():
    now = [1000.0]
    endpoint = TokenEndpoint(ok(), ok(), ok())
    credential = EntraClientCredential(
        CLOUD, TENANT, CLIENT, client_secret=SECRET, session=endpoint, clock=lambda: now[0]
    )
    first = credential.get_token()
    now[0] += 3000  # 599 s left of 3599: still fine
    assert credential.get_token() == first
    now[0] += 400  # 199 s left: inside the 300 s margin
    credential.get_token()
    assert len(endpoint.posts) == 2
    credential.get_token(force_refresh=True)
    assert len(endpoint.posts) == 3


def test_short_lived_tokens_are_renewed_at_half_life():
    now = [0.0]
    short = response(200, {"token_type": "Bearer", "expires_in": 10, "access_token": "a.b.c"})
    endpoint = TokenEndpoint(short, short)
    credential = EntraClientCredential(
        CLOUD, TENANT, CLIENT, client_secret=SECRET, session=endpoint, clock=lambda: now[0]
    )
    credential.get_token()
    now[0] = 4
    credential.get_token()
    now[0] = 6
    credential.get_token()
    assert len(endpoint.posts) == 2


def test_secret_echoed_by_the_server_is_scrubbed():
    echoed = dict(BAD_SECRET, error_description="AADSTS7000215: secret %s is wrong" % SECRET)
    endpoint = TokenEndpoint(response(401, echoed))
    credential = EntraClientCredential(CLOUD, TENANT, CLIENT, client_secret=SECRET, session=endpoint)
    with pytest.raises(AuthenticationError) as caught:
        credential.get_token()
    assert SECRET not in str(caught.value)


def test_invalid_scope_fixture_is_mapped():
    endpoint = TokenEndpoint(response(400, fixture("entra-v2-token-error-invalid_scope-400.docs.json")))
    credential = EntraClientCredential(CLOUD, TENANT, CLIENT, client_secret=SECRET, session=endpoint)
    with pytest.raises(AuthenticationError, match=r"HTTP 400, invalid_scope\): AADSTS70011: The provided value"):
        credential.get_token()


def test_token_endpoint_5xx_is_retried():
    endpoint = TokenEndpoint(response(503, {"error": "temporarily_unavailable"}), ok())
    credential = EntraClientCredential(
        CLOUD, TENANT, CLIENT, client_secret=SECRET, session=endpoint, sleep=lambda s: None
    )
    assert credential.get_token().token
    assert len(endpoint.posts) == 2
