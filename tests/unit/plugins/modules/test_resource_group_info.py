# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resource_group_info with recorded Azure bodies: found, absent, forbidden, no subscription."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from ansible.module_utils.testing import patch_module_args

from ansible_collections.managed_identity.azure.plugins.module_utils import _arm, _module
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import AccessToken
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.managed_identity.azure.plugins.modules import resource_group_info

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "azure"
SUB = "00000000-0000-0000-0000-000000000000"


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def response(status, body, headers=None):
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode()
    resp.headers.update(headers or {})
    return resp


class Session:
    def __init__(self, answer):
        self.answer = answer
        self.urls = []

    def request(self, method, url, **kwargs):
        self.urls.append(url)
        return self.answer


class Credential:
    def get_token(self, force_refresh=False):
        return AccessToken("tok.en.value", 0)


def run(monkeypatch, capsys, answer, args=None):
    session = Session(answer)
    cloud = resolve_cloud(None, "https://arm.example.test", "https://login.example.test", None)
    monkeypatch.setattr(
        _module,
        "client_from_params",
        lambda params, environ=None, warn=None: _arm.ArmClient(cloud, Credential(), session=session),
    )
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    with patch_module_args(args or {"name": "my-resource-group", "subscription_id": SUB}), pytest.raises(SystemExit):
        resource_group_info.main()
    return json.loads(capsys.readouterr().out), session.urls


def test_existing_group(monkeypatch, capsys):
    result, urls = run(monkeypatch, capsys, response(200, fixture("arm-resourcegroup-get-200.spec-2021-04-01.json")))
    assert result["exists"] is True
    assert result["id"] == "/subscriptions/%s/resourceGroups/my-resource-group" % SUB
    assert (result["location"], result["provisioning_state"], result["tags"]) == ("eastus", "Succeeded", {})
    assert urls == [
        "https://arm.example.test/subscriptions/%s/resourceGroups/my-resource-group?api-version=2021-04-01" % SUB
    ]


def test_missing_group_is_not_an_error(monkeypatch, capsys):
    result = run(monkeypatch, capsys, response(404, fixture("arm-error-ResourceGroupNotFound-404.observed.json")))[0]
    assert result["exists"] is False and not result.get("failed")


def test_missing_subscription_fails(monkeypatch, capsys):
    body = {"error": {"code": "SubscriptionNotFound", "message": "The subscription 'x' could not be found."}}
    result = run(monkeypatch, capsys, response(404, body))[0]
    assert result["failed"] is True and "SubscriptionNotFound" in result["msg"]


def test_forbidden_quotes_azure_and_explains_propagation(monkeypatch, capsys):
    body = fixture("arm-error-AuthorizationFailed-403.observed.json")
    result = run(monkeypatch, capsys, response(403, body, {"x-ms-request-id": "r1"}))[0]
    assert result["failed"] is True
    assert body["error"]["message"] in result["msg"]
    assert "HTTP 403, AuthorizationFailed" in result["msg"]
    assert "up to 10 minutes" in result["msg"]
    assert result["msg"].startswith("Failed to read resource group my-resource-group in subscription %s" % SUB)


def test_subscription_is_required_and_never_guessed(monkeypatch, capsys):
    result, urls = run(monkeypatch, capsys, None, {"name": "rg"})
    assert result["failed"] is True and "subscription_id is required" in result["msg"]
    assert urls == []
