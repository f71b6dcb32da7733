# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operator credentials: which source is picked, what goes on the wire, and that no secret leaks."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import requests

from ansible_collections.managed_identity.azure.plugins.module_utils import _credentials
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    AuthenticationError,
    ConfigurationError,
    EndpointUnreachable,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_endpoints import IdentityToken

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "azure"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "6b4a0c83-2a54-4d05-9a1c-9d1f4a2f2a07"
SECRET = "s3cr3t-Value~with.chars"
CLOUD = resolve_cloud(None, None, None, None)
# Shape of a real AADSTS7000215 answer (azure-reference section 5; status 401 per MSAL error handling).
BAD_SECRET = {
    "error": "invalid_client",
    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request "
    "is the client secret value, not the client secret ID, for a secret added to app '%s'.\r\nTrace ID: "
    "11111111-1111-1111-1111-111111111111\r\nCorrelation ID: 22222222-2222-2222-2222-222222222222\r\n"
    "Timestamp: 2024-05-01 10:00:00Z" % CLIENT,
    "error_codes": [7000215],
    "trace_id": "11111111-1111-1111-1111-111111111111",
    "correlation_id": "22222222-2222-2222-2222-222222222222",
}


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def response(status, body):
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode()
    resp.headers["Content-Type"] = "application/json"
    return resp


class TokenEndpoint:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.posts = []

    def post(self, url, data=None, timeout=None, headers=None):
        self.posts.append({"url": url, "data": dict(data)})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok():
    return response(200, fixture("entra-v2-token-client-credentials-200.docs.json"))


def test_service_principal_posts_v2_client_credentials_with_double_slash_scope():
    endpoint = TokenEndpoint(ok())
    params = {"auth_source": "service_principal", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET}
    credential = _credentials.build_credential(params, CLOUD, environ={}, session=endpoint)
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
    _credentials.build_credential(params, cloud, environ={}, session=endpoint).get_token()
    assert endpoint.posts[0]["data"]["scope"] == "https://management.azure.com/.default"
    assert endpoint.posts[0]["url"].startswith("https://127.0.0.1:9443/")


def test_token_is_cached_until_close_to_expiry():
    now = [1000.0]
    endpoint = TokenEndpoint(ok(), ok(), ok())
    credential = _credentials.EntraClientCredential(
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
    credential = _credentials.EntraClientCredential(
        CLOUD, TENANT, CLIENT, client_secret=SECRET, session=endpoint, clock=lambda: now[0]
    )
    credential.get_token()
    now[0] = 4
    credential.get_token()
    now[0] = 6
    credential.get_token()
    assert len(endpoint.posts) == 2


def test_wrong_secret_gives_aadsts_message_and_ids_but_never_the_secret():
    endpoint = TokenEndpoint(response(401, BAD_SECRET))
    params = {"auth_source": "service_principal", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET}
    with pytest.raises(AuthenticationError) as caught:
        _credentials.build_credential(params, CLOUD, environ={}, session=endpoint).get_token()
    err = caught.value
    text = str(err)
    assert err.status == 401 and err.code == "invalid_client"
    assert "AADSTS7000215: Invalid client secret provided." in text
    assert CLIENT in text and TENANT in text
    assert "Trace ID" not in text  # moved to request_id
    assert err.request_id == BAD_SECRET["trace_id"]
    assert SECRET not in text and SECRET not in json.dumps(err.fail_kwargs())


def test_secret_echoed_by_the_server_is_scrubbed():
    echoed = dict(BAD_SECRET, error_description="AADSTS7000215: secret %s is wrong" % SECRET)
    endpoint = TokenEndpoint(response(401, echoed))
    credential = _credentials.EntraClientCredential(CLOUD, TENANT, CLIENT, client_secret=SECRET, session=endpoint)
    with pytest.raises(AuthenticationError) as caught:
        credential.get_token()
    assert SECRET not in str(caught.value)


def test_invalid_scope_fixture_is_mapped():
    endpoint = TokenEndpoint(response(400, fixture("entra-v2-token-error-invalid_scope-400.docs.json")))
    credential = _credentials.EntraClientCredential(CLOUD, TENANT, CLIENT, client_secret=SECRET, session=endpoint)
    with pytest.raises(AuthenticationError, match=r"HTTP 400, invalid_scope\): AADSTS70011: The provided value"):
        credential.get_token()


def test_token_endpoint_5xx_is_retried():
    endpoint = TokenEndpoint(response(503, {"error": "temporarily_unavailable"}), ok())
    credential = _credentials.EntraClientCredential(
        CLOUD, TENANT, CLIENT, client_secret=SECRET, session=endpoint, sleep=lambda s: None
    )
    assert credential.get_token().token
    assert len(endpoint.posts) == 2


def test_workload_identity_sends_the_file_as_client_assertion_and_rereads_it(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("header.first-federated.sig\n")
    endpoint = TokenEndpoint(ok(), ok())
    env = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT, "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}
    credential = _credentials.build_credential({"auth_source": "auto"}, CLOUD, environ=env, session=endpoint)
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
        _credentials.build_credential(params, CLOUD, environ={}, session=TokenEndpoint()).get_token()


def test_explicit_source_with_missing_options_names_option_and_env_var():
    with pytest.raises(ConfigurationError) as caught:
        _credentials.build_credential(
            {"auth_source": "service_principal", "client_id": CLIENT}, CLOUD, environ={}, session=None
        )
    assert "tenant_id (or AZURE_TENANT_ID)" in str(caught.value)
    assert "client_secret (or AZURE_CLIENT_SECRET)" in str(caught.value)


def test_options_win_over_environment():
    endpoint = TokenEndpoint(ok())
    env = {"AZURE_TENANT_ID": "env-tenant", "AZURE_CLIENT_ID": "env-client", "AZURE_CLIENT_SECRET": "env-secret"}
    params = {"auth_source": "auto", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET}
    _credentials.build_credential(params, CLOUD, environ=env, session=endpoint).get_token()
    assert endpoint.posts[0]["data"]["client_id"] == CLIENT
    assert TENANT in endpoint.posts[0]["url"]


def test_auto_stops_at_a_configured_source_that_is_refused():
    endpoint = TokenEndpoint(response(401, BAD_SECRET))
    env = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT, "AZURE_CLIENT_SECRET": SECRET}
    credential = _credentials.build_credential({"auth_source": "auto"}, CLOUD, environ=env, session=endpoint)
    with pytest.raises(AuthenticationError, match="AADSTS7000215"):
        credential.get_token()
    assert len(endpoint.posts) == 1


def test_auto_reports_everything_it_tried(monkeypatch, tmp_path):
    def no_imds(resource, **kwargs):
        raise EndpointUnreachable("no managed identity endpoint answered at http://127.0.0.1:9 (connection refused)")

    monkeypatch.setattr(_credentials._host_identity_endpoints, "get_token", no_imds)
    env = {"PATH": str(tmp_path), "AZURE_CLIENT_ID": CLIENT}
    credential = _credentials.build_credential({"auth_source": "auto"}, CLOUD, environ=env, session=None)
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

    monkeypatch.setattr(_credentials._host_identity_endpoints, "get_token", imds)
    credential = _credentials.build_credential({"auth_source": "auto", "timeout": 30}, CLOUD, environ={}, session=None)
    assert credential.get_token().expires_on == 2000000000
    assert seen["resource"] == "https://management.core.windows.net/"
    assert seen["max_wait"] == 0 and seen["timeout"] <= 5
    assert credential.description == "managed identity (system-assigned identity)"


def test_managed_identity_selects_user_assigned(monkeypatch):
    seen = {}

    def imds(resource, **kwargs):
        seen.update(kwargs)
        return IdentityToken("a.b.c", "Bearer", 1, resource, "imds", "http://x", None)

    monkeypatch.setattr(_credentials._host_identity_endpoints, "get_token", imds)
    params = {"auth_source": "managed_identity", "object_id": "oid-1"}
    _credentials.build_credential(params, CLOUD, environ={"AZURE_CLIENT_ID": CLIENT}, session=None).get_token()
    assert seen["object_id"] == "oid-1" and seen["client_id"] is None  # env client id does not add a 2nd selector
    assert seen["max_wait"] >= 80


def fake_az(tmp_path, script):
    path = tmp_path / "az"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return {"PATH": str(tmp_path) + os.pathsep + os.defpath}


def test_cli_runs_az_get_access_token(tmp_path):
    env = fake_az(
        tmp_path,
        'echo "$@" > "%s/args"\necho \'{"accessToken": "cli.tok.en", "expires_on": 1900000000, '
        '"expiresOn": "2030-03-17 17:46:40.000000"}\'\n' % tmp_path,
    )
    credential = _credentials.build_credential(
        {"auth_source": "cli", "tenant_id": TENANT}, CLOUD, environ=env, session=None
    )
    token = credential.get_token()
    assert token.token == "cli.tok.en" and token.expires_on == 1900000000
    assert (tmp_path / "args").read_text().split() == [
        "account",
        "get-access-token",
        "--resource",
        "https://management.core.windows.net/",
        "--output",
        "json",
        "--tenant",
        TENANT,
    ]


def test_cli_not_logged_in_says_so(tmp_path):
    env = fake_az(tmp_path, "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n")
    with pytest.raises(AuthenticationError, match="Please run 'az login'"):
        _credentials.build_credential({"auth_source": "cli"}, CLOUD, environ=env, session=None).get_token()


def test_cli_missing_in_explicit_mode():
    with pytest.raises(AuthenticationError, match="not on PATH"):
        _credentials.build_credential(
            {"auth_source": "cli"}, CLOUD, environ={"PATH": "/nonexistent"}, session=None
        ).get_token()


def test_given_token_is_used_and_not_renewable():
    credential = _credentials.build_credential(
        {"auth_source": "token", "access_token": "x.y.z"}, CLOUD, environ={}, session=None
    )
    assert credential.get_token().token == "x.y.z"
    assert credential.renewable is False
    with pytest.raises(ConfigurationError, match="access_token"):
        _credentials.build_credential({"auth_source": "token"}, CLOUD, environ={}, session=None)


def test_access_token_repr_hides_the_token():
    assert "x.y.z" not in repr(_credentials.AccessToken("x.y.z", 5))


def test_jwt_expiry():
    assert _credentials.jwt_expiry("e30.eyJleHAiOjEyM30.sig") == 123
    assert _credentials.jwt_expiry("not-a-jwt") == 0
