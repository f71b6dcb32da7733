# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_module: the ARM client built from the shared options, the subscription rule, and how a module fails."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.managed_identity.azure.plugins.module_utils import _module
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_options import auth_argument_spec
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    ConfigurationError,
    PermissionDenied,
)

SUB = "7d5c3b1e-35a4-4f0b-9a7e-2f4f2e6d1a10"


def params(**given):
    values = {name: spec.get("default") for name, spec in auth_argument_spec().items()}
    values.update(given)
    return values


def test_client_from_params_uses_the_options_and_the_environment():
    client = _module.client_from_params(
        params(
            auth_source="token",
            access_token="tok.en.value",
            arm_endpoint="https://arm.example.test",
            authority_host="https://login.example.test",
            timeout=7,
            max_wait=9,
        ),
        environ={"AZURE_HTTP_USER_AGENT": "pipeline/42"},
    )
    assert client.cloud.arm_endpoint == "https://arm.example.test"
    assert (client.timeout, client.max_wait) == (7.0, 9.0)
    assert client.user_agent.endswith(" pipeline/42")
    assert client.credential.get_token().token == "tok.en.value"


def test_max_wait_zero_means_no_retries_not_the_default():
    client = _module.client_from_params(params(auth_source="token", access_token="t.o.k", max_wait=0), environ={})
    assert client.max_wait == 0.0


def test_authority_host_comes_from_the_environment_when_not_given():
    cloud = _module.cloud_from_params(
        params(arm_endpoint="https://arm.example.test"), {"AZURE_AUTHORITY_HOST": "https://login.example.test/"}
    )
    assert cloud.authority_host.rstrip("/") == "https://login.example.test"


def run_module(argument_spec, args, body, capsys, **kwargs):
    with patch_module_args(args), pytest.raises(SystemExit):
        body(_module.AzureModule(argument_spec, **kwargs))
    return json.loads(capsys.readouterr().out)


def test_subscription_is_the_option_then_the_environment_and_never_guessed(monkeypatch, capsys):
    seen = []
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    run_module({}, {}, lambda m: (seen.append(m.subscription_id()), m.exit()), capsys)
    run_module({}, {"subscription_id": "given"}, lambda m: (seen.append(m.subscription_id()), m.exit()), capsys)
    assert seen == [SUB, "given"]
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID")

    def body(module):
        assert module.subscription_id(required=False) is None
        try:
            module.subscription_id()
        except ConfigurationError as err:
            module.fail(err)

    result = run_module({}, {}, body, capsys)
    # A configuration error names the option and the fix (modules fail with it as it is: nothing was attempted).
    assert result["failed"] is True
    assert result["msg"].startswith("subscription_id is required: set the subscription_id option")


def test_fail_leads_with_the_action_and_keeps_the_facts_support_asks_for(capsys):
    error = PermissionDenied(
        "The client 'x' cannot write.",
        status=403,
        code="AuthorizationFailed",
        request_id="req-1",
        correlation_id="corr-1",
    )
    error.step = "PUT /subscriptions/s/resourceGroups/rg"
    result = run_module({}, {}, lambda m: m.fail(error, "create resource group rg", scope="/subscriptions/s"), capsys)
    assert result["msg"] == (
        "Failed to create resource group rg (HTTP 403, AuthorizationFailed): The client 'x' cannot write. "
        "[PUT /subscriptions/s/resourceGroups/rg, request id req-1, correlation id corr-1]"
    )
    assert (result["status_code"], result["error_code"], result["request_id"], result["correlation_id"]) == (
        403,
        "AuthorizationFailed",
        "req-1",
        "corr-1",
    )
    assert result["scope"] == "/subscriptions/s"


def test_an_action_set_nearer_the_user_is_kept(capsys):
    error = ArmError("busy", status=409, code="Conflict", action="grant Reader to vm-one")
    result = run_module({}, {}, lambda m: m.fail(error, "ensure role assignments"), capsys)
    assert result["msg"].startswith("Failed to grant Reader to vm-one (HTTP 409, Conflict): busy")


def test_secrets_in_the_auth_options_are_no_log_and_selectors_exclusive(capsys):
    result = run_module(
        {}, {"client_secret": "s3cr3t-value", "client_id": "a", "object_id": "b"}, lambda m: m.exit(), capsys
    )
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
    assert "s3cr3t-value" not in json.dumps(result)


def test_a_module_option_may_not_shadow_an_auth_option():
    with pytest.raises(ValueError, match="timeout"):
        _module.AzureModule({"timeout": {"type": "int"}})
