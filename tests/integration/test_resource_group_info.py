# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resource_group_info against the emulator: found, absent, 403 and 401 messages a user can act on."""

from __future__ import annotations

import arm_world as world
import pytest
from arm_world import GRANTED, PLAYBOOKS, SUB, endpoints, read_vars, sp_auth

READ = PLAYBOOKS / "read_resource_group.yml"


@pytest.fixture(scope="module")
def _world():
    yield from world.running()


@pytest.fixture
def emu(_world):
    _world.reset()
    return _world


def test_found_and_absent(emu, run_playbook):
    variables = read_vars(emu, sp_auth(emu), other_group="rg-does-not-exist")
    result = run_playbook(READ, extra_vars=variables).assert_ok()
    out = result.out("results")
    granted = out["granted"]
    assert granted["exists"] is True
    assert (granted["name"], granted["location"], granted["provisioning_state"]) == (GRANTED, "westus", "Succeeded")
    assert granted["tags"] == {"purpose": "granted"}
    assert out["other"]["exists"] is False and not out["other"]["failed"]
    assert emu.counters("arm")["writes"] == 0


def test_403_quotes_azure_and_explains_propagation(emu, run_playbook):
    nobody = emu.service_principal("nobody")
    variables = read_vars(emu, sp_auth(emu, "nobody"), expect_failure=True)
    variables.pop("other_group")
    out = run_playbook(READ, extra_vars=variables).out("results")["granted"]
    assert out["failed"] is True and out["status_code"] == 403 and out["error_code"] == "AuthorizationFailed"
    assert (
        "The client '%s' with object id '%s' does not have authorization" % (nobody["client_id"], nobody["object_id"])
        in out["msg"]
    )
    assert "may not have taken effect yet (up to 10 minutes)" in out["msg"]
    assert out["msg"].startswith("Failed to read resource group %s in subscription %s" % (GRANTED, SUB))
    assert out["request_id"]


def test_401_for_a_token_with_the_wrong_audience(emu, run_playbook):
    token = emu.arm_token(resource="https://vault.azure.net")
    variables = read_vars(emu, {"auth_source": "token", "access_token": token, **endpoints(emu)}, expect_failure=True)
    variables.pop("other_group")
    result = run_playbook(READ, extra_vars=variables)
    out = result.out("results")["granted"]
    assert out["failed"] is True and out["status_code"] == 401
    assert out["error_code"] == "InvalidAuthenticationTokenAudience"
    assert "wrong audience or resource 'https://vault.azure.net'" in out["msg"]
    assert token not in result.output
