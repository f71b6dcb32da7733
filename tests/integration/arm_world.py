# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator world of the ARM integration tests (auth sources, arm_request, resource_group_info).

An operator (Owner), a workload-identity application federated with a Kubernetes service account, an application
with no role at all, and a VM whose system-assigned identity may read one resource group only.
"""

from __future__ import annotations

from pathlib import Path

import requests

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks" / "arm"
SUB = "4f7a1c2e-8b3d-4e5f-9a6b-7c8d9e0f1a2b"
GRANTED = "rg-granted"
OTHER = "rg-other"
SCOPE = "/subscriptions/%s/resourceGroups/%s" % (SUB, GRANTED)

SEED = {
    "subscriptions": [
        {
            "subscription_id": SUB,
            "display_name": "ARM integration tests",
            "resource_groups": [
                {
                    "name": GRANTED,
                    "location": "westus",
                    "tags": {"purpose": "granted"},
                    "vms": [
                        {"name": "vm-mi", "os_type": "Linux", "identity": {"system_assigned": True}},
                        {"name": "vm-plain", "os_type": "Linux"},
                    ],
                },
                {"name": OTHER, "location": "eastus"},
            ],
        }
    ],
    "service_principals": [
        {"name": "operator", "display_name": "ansible-operator"},
        {
            "name": "workload",
            "display_name": "ci-workload",
            "federated_credentials": [{"subject": "system:serviceaccount:ci:ansible"}],
        },
        {"name": "nobody", "display_name": "no-roles"},
    ],
    "role_assignments": [
        {"principal": "operator", "role": "Owner", "scope": "/subscriptions/%s" % SUB},
        {"principal": "workload", "role": "Reader", "scope": SCOPE},
        {"principal": "vm-mi", "role": "Reader", "scope": SCOPE},
    ],
}


def endpoints(emu) -> dict:
    """Where the collection finds the emulator: the custom-cloud options."""
    return {"arm_endpoint": emu.arm_endpoint, "authority_host": emu.authority_host, "ca_path": emu.ca_bundle}


def sp_auth(emu, name: str = "operator", secret: str | None = None) -> dict:
    sp = emu.service_principal(name)
    return {
        "auth_source": "service_principal",
        "tenant_id": emu.tenant_id,
        "client_id": sp["client_id"],
        "client_secret": secret or sp["client_secret"],
        **endpoints(emu),
    }


def read_vars(emu, auth: dict, **extra) -> dict:
    return {"auth": auth, "subscription_id": SUB, "granted_group": GRANTED, "other_group": OTHER, **extra}


def running():
    """Generator for a module-scoped fixture: one emulator with SEED for the test module."""
    from support.emulator import RunningEmulator

    emu = RunningEmulator.start(seed=SEED)
    try:
        yield emu
    finally:
        emu.stop()


def arm_get(emu, path: str, api_version: str) -> requests.Response:
    """A GET straight to the emulator's ARM with the operator's token: the state, independent of the collection."""
    return requests.get(
        emu.arm_endpoint.rstrip("/") + path,
        params={"api-version": api_version},
        headers={"Authorization": "Bearer " + emu.arm_token()},
        verify=emu.ca_bundle,
        timeout=30,
    )


def vm_path(name: str) -> str:
    return "%s/providers/Microsoft.Compute/virtualMachines/%s" % (SCOPE, name)


def vm_principal_id(emu, name: str = "vm-mi") -> str:
    """The VM's system-assigned principal, as ARM shows it."""
    response = arm_get(emu, vm_path(name), "2024-11-01")
    response.raise_for_status()
    return response.json()["identity"]["principalId"]
