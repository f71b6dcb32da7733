# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared world for the RBAC-module integration tests (seed, auth wiring, emulator state readers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks" / "rbac"
SEED = PLAYBOOKS / "seed.yaml"
SUB = "2d6a0e4c-7b1f-4c3e-8d2a-9f0e1b2c3d4e"
RG = "rbac-rg"
RG_SCOPE = "/subscriptions/%s/resourceGroups/%s" % (SUB, RG)
UAMI = RG_SCOPE + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
VM = RG_SCOPE + "/providers/Microsoft.Compute/virtualMachines/"
READER_GUID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"

@pytest.fixture(scope="module")
def rbac_emulator() -> Iterator[Any]:
    """One emulator with the RBAC seed per test module (a test module imports this and ``emu``)."""
    from support.emulator import RunningEmulator

    emu = RunningEmulator.start(seed=SEED)
    yield emu
    emu.stop()


@pytest.fixture
def emu(rbac_emulator: Any) -> Any:
    """The module's emulator, back at the seed (and its counters zeroed) before each test."""
    rbac_emulator.reset()
    return rbac_emulator


# Every module of the action group gets the emulator's endpoints and the operator from the `azure` extra var.
MODULE_DEFAULTS = {
    "group/managed_identity.azure.azure": {
        key: "{{ azure.%s }}" % key
        for key in (
            "arm_endpoint",
            "authority_host",
            "ca_path",
            "tenant_id",
            "client_id",
            "client_secret",
            "subscription_id",
        )
    }
}


def azure_vars(emu: Any, principal: str = "operator") -> Dict[str, Any]:
    sp = emu.service_principal(principal)
    return {
        "azure": {
            "arm_endpoint": emu.arm_endpoint,
            "authority_host": emu.authority_host,
            "ca_path": emu.ca_bundle,
            "tenant_id": emu.tenant_id,
            "client_id": sp["client_id"],
            "client_secret": sp["client_secret"],
            "subscription_id": SUB,
        }
    }


def play(tasks: List[Dict[str, Any]], name: str = "rbac") -> List[Dict[str, Any]]:
    return [
        {"name": name, "hosts": "localhost", "gather_facts": False, "module_defaults": MODULE_DEFAULTS, "tasks": tasks}
    ]


def resource(emu: Any, resource_id: str) -> Optional[Dict[str, Any]]:
    return emu.state()["resources"].get(resource_id.lower())


def identity_of(emu: Any, name: str, kind: str = "virtualMachines") -> Dict[str, Any]:
    """(type, system principal, sorted lower-cased user-assigned IDs) of a VM/VMSS as the emulator stores it."""
    found = resource(emu, RG_SCOPE + "/providers/Microsoft.Compute/%s/%s" % (kind, name))
    assert found is not None, "no %s %s in the emulator" % (kind, name)
    identity = found.get("identity") or {}
    return {
        "type": identity.get("type", "None"),
        "principal_id": identity.get("principalId"),
        "user_assigned": sorted(k.lower() for k in (identity.get("userAssignedIdentities") or {})),
    }


def assignments(emu: Any, principal_id: Optional[str] = None) -> List[Dict[str, Any]]:
    found = list(emu.state()["role_assignments"].values())
    if principal_id:
        found = [a for a in found if a["properties"]["principalId"].lower() == principal_id.lower()]
    return found


def writes(emu: Any) -> int:
    return emu.counters("arm")["writes"]


def run_task(
    run_playbook: Any,
    emu: Any,
    module: str,
    args: Dict[str, Any],
    *,
    check: bool = False,
    principal: str = "operator",
    diff: bool = False,
) -> Any:
    """Run one task of ``module`` in its own ansible-playbook process; returns (task record, ARM writes made)."""
    before = writes(emu)
    result = run_playbook(
        play([{"name": "task", "managed_identity.azure.%s" % module: args}]),
        extra_vars=azure_vars(emu, principal),
        check=check,
        diff=diff,
    )
    record = result.task("task")
    assert record.failed == (result.rc != 0), result.output
    return record, writes(emu) - before
