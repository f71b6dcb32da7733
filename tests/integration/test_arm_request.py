# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""arm_request against the emulator: paging, a waited long-running PATCH, idempotency and check mode, throttling
and server faults survived, token renewal. Outcomes are read from the emulator (its ARM and its counters)."""

from __future__ import annotations

import arm_world as world
import pytest
from arm_world import PLAYBOOKS, SCOPE, SUB, sp_auth, vm_path

CALL = PLAYBOOKS / "arm_request.yml"
VM_API = "2024-11-01"
UAMI_API = "2023-01-31"
TOKEN_ROUTE = "entra POST /{tenant}/oauth2/v2.0/token"


@pytest.fixture(scope="module")
def _world():
    yield from world.running()


@pytest.fixture
def emu(_world):
    _world.reset()
    return _world


def call(run_playbook, emu, request, **kwargs):
    extra = {"auth": sp_auth(emu), "request": request}
    extra.update(kwargs.pop("extra_vars", {}))
    result = run_playbook(CALL, extra_vars=extra, **kwargs)
    return result, result.out("results")


def test_paging_follows_every_page(emu, run_playbook):
    emu.set_knobs(page_size=2)
    path = "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions" % SUB
    expected = len(emu.state()["role_definitions"])
    assert expected > 4
    result, out = call(run_playbook, emu, {"path": path, "api_version": "2022-04-01", "paginate": True})
    result.assert_ok()
    names = [d["properties"]["roleName"] for d in out["first"]["response"]["value"]]
    assert len(names) == expected and "Reader" in names
    pages = emu.counters("arm")["by_route"]["GET /{scope}/providers/Microsoft.Authorization/roleDefinitions"]
    assert pages == -(-expected // 2)


def test_long_running_patch_is_waited_and_idempotent(emu, run_playbook):
    emu.set_knobs(lro_delay=2, retry_after=1)
    request = {
        "method": "PATCH",
        "path": vm_path("vm-plain"),
        "api_version": VM_API,
        "body": {"identity": {"type": "SystemAssigned"}},
        "idempotent": True,
    }
    result, out = call(run_playbook, emu, request, extra_vars={"repeat": True}, diff=True)
    result.assert_ok()
    first, second = out["first"], out["second"]
    assert first["changed"] is True
    assert first["response"]["properties"]["provisioningState"] == "Succeeded"
    principal = first["response"]["identity"]["principalId"]
    assert "identity" not in first["diff"]["before"]
    assert first["diff"]["after"]["identity"]["principalId"] == principal
    assert second["changed"] is False
    assert emu.counters("arm")["writes"] == 1  # the second run wrote nothing
    state = world.arm_get(emu, vm_path("vm-plain"), VM_API).json()
    assert state["identity"]["type"] == "SystemAssigned" and state["identity"]["principalId"] == principal


def test_check_mode_changes_nothing(emu, run_playbook):
    request = {
        "method": "PATCH",
        "path": vm_path("vm-plain"),
        "api_version": VM_API,
        "body": {"identity": {"type": "SystemAssigned"}},
        "idempotent": True,
    }
    result, out = call(run_playbook, emu, request, check=True, diff=True)
    result.assert_ok()
    assert out["first"]["changed"] is True
    assert out["first"]["diff"]["after"]["identity"]["type"] == "SystemAssigned"
    assert emu.counters("arm")["writes"] == 0
    assert "identity" not in world.arm_get(emu, vm_path("vm-plain"), VM_API).json()


def test_throttling_server_errors_and_dropped_connections_are_survived(emu, run_playbook):
    path = "%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-retry" % SCOPE
    emu.add_fault(service="arm", kind="status", status=429, retry_after=1, count=2, method="PUT", path="uami-retry")
    emu.add_fault(service="arm", kind="status", status=503, count=1, method="PUT", path="uami-retry")
    emu.add_fault(service="arm", kind="drop", count=1, method="PUT", path="uami-retry")
    request = {"method": "PUT", "path": path, "api_version": UAMI_API, "body": {"location": "westus"}}
    result, out = call(run_playbook, emu, request)
    result.assert_ok()
    assert out["first"]["status_code"] in (200, 201)
    by_status = emu.counters("arm")["by_status"]
    assert by_status.get("429") == 2 and by_status.get("503") == 1
    assert emu.control("GET", "/faults") == []  # every injected fault fired (each retires after its count)
    created = world.arm_get(emu, path, UAMI_API)
    assert created.status_code == 200 and created.json()["properties"]["principalId"]


def test_expired_token_is_renewed_once_after_401(emu, run_playbook):
    emu.add_fault(service="arm", kind="status", status=401, code="ExpiredAuthenticationToken", count=1, method="GET")
    result, out = call(run_playbook, emu, {"path": SCOPE, "api_version": "2021-04-01"})
    result.assert_ok()
    assert out["first"]["response"]["name"] == "rg-granted"
    assert emu.counters()["by_route"][TOKEN_ROUTE] == 2
    assert emu.counters("arm")["by_status"] == {"401": 1, "200": 1}


def test_short_lived_tokens_are_renewed_during_a_long_wait(emu, run_playbook):
    emu.set_knobs(token_lifetime=2, lro_delay=5, retry_after=1)
    request = {
        "method": "PATCH",
        "path": vm_path("vm-plain"),
        "api_version": VM_API,
        "body": {"identity": {"type": "SystemAssigned"}},
    }
    result, out = call(run_playbook, emu, request)
    result.assert_ok()
    assert out["first"]["response"]["identity"]["type"] == "SystemAssigned"
    assert emu.counters()["by_route"][TOKEN_ROUTE] >= 2
    assert "401" not in emu.counters("arm")["by_status"]


def test_failure_names_action_status_code_and_request_id(emu, run_playbook):
    request = {"path": "%s/providers/Microsoft.Compute/virtualMachines/missing" % SCOPE, "api_version": VM_API}
    result, out = call(run_playbook, emu, request, extra_vars={"expect_failure": True})
    first = out["first"]
    assert first["failed"] is True
    assert first["msg"].startswith(
        "Failed to GET %s/providers/Microsoft.Compute/virtualMachines/missing (HTTP 404, " % SCOPE
    )
    assert first["request_id"] and first["error_code"] == "ResourceNotFound"
