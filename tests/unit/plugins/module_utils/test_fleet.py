# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet listing behind the azure_vms inventory: four lists per subscription joined by ID, filters, a failing
subscription that fails the inventory or is skipped with a warning naming it."""

from __future__ import annotations

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils import _fleet
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    ConfigurationError,
    PermissionDenied,
)

SUB = "11111111-1111-1111-1111-111111111111"
SUB2 = "22222222-2222-2222-2222-222222222222"


def vm(sub, rg, name, *, os_type="Linux", tags=None, location="westeurope", identity=None, nics=None):
    rid = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (sub, rg, name)
    body = {
        "id": rid,
        "name": name,
        "location": location,
        "tags": tags or {},
        "properties": {
            "vmId": "vmid-" + name,
            "hardwareProfile": {"vmSize": "Standard_B2s"},
            "storageProfile": {"osDisk": {"osType": os_type}},
            "osProfile": {"computerName": name},
            "provisioningState": "Succeeded",
            "networkProfile": {"networkInterfaces": nics if nics is not None else [{"id": nic_id(sub, rg, name)}]},
        },
    }
    if identity:
        body["identity"] = identity
    return body


def nic_id(sub, rg, name, suffix="VMNic"):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/networkInterfaces/%s%s" % (
        sub,
        rg,
        name,
        suffix,
    )


def nic(rid, *configs):
    ip_configs = []
    for address, primary, public_id in configs:
        props = {"privateIPAddress": address, "primary": primary}
        if public_id:
            props["publicIPAddress"] = {"id": public_id}
        ip_configs.append({"properties": props})
    return {"id": rid, "properties": {"ipConfigurations": ip_configs}}


def pip(rid, address):
    return {"id": rid, "properties": {"ipAddress": address}}


def status(vm_body, state):
    return {
        "id": vm_body["id"].upper(),  # IDs are compared case-insensitively
        "properties": {"instanceView": {"statuses": [{"code": "ProvisioningState/succeeded"},
                                                     {"code": "PowerState/" + state}]}},
    }


class FakeClient:
    """Answers client.list(path, version, query=..., action=...) from a table; records every call."""

    def __init__(self, subs):
        self.subs = subs
        self.calls = []

    def list(self, path, version, query=None, action=None):
        self.calls.append((path, version, dict(query or {})))
        sub = path.split("/")[2]
        data = self.subs[sub]
        if isinstance(data, Exception):
            raise data
        if path.endswith("virtualMachines"):
            return data["statuses"] if (query or {}).get("statusOnly") == "true" else data["vms"]
        return data["nics"] if path.endswith("networkInterfaces") else data["pips"]


PIP1 = "/subscriptions/%s/resourceGroups/rg-web/providers/Microsoft.Network/publicIPAddresses/web1PublicIP" % SUB
WEB1 = vm(SUB, "rg-web", "web1", tags={"env": "prod", "role": "web"},
          identity={"type": "SystemAssigned, UserAssigned", "principalId": "p-sys", "tenantId": "t",
                    "userAssignedIdentities": {"/subscriptions/s/resourcegroups/rg/providers/"
                                               "Microsoft.ManagedIdentity/userAssignedIdentities/app":
                                               {"clientId": "c-app", "principalId": "p-app"}}})
WIN1 = vm(SUB, "rg-db", "win1", os_type="Windows", tags={"env": "dev"}, location="eastus")
X1 = vm(SUB2, "rg-x", "x1")


def world():
    return {
        SUB: {
            "vms": [WEB1, WIN1],
            "statuses": [status(WEB1, "running"), status(WIN1, "deallocated")],
            "nics": [
                nic(nic_id(SUB, "rg-web", "web1"), ("10.0.0.9", False, None), ("10.0.0.4", True, PIP1)),
                nic(nic_id(SUB, "rg-db", "win1"), ("10.1.0.4", True, None)),
            ],
            "pips": [pip(PIP1, "192.0.2.1")],
        },
        SUB2: {"vms": [X1], "statuses": [status(X1, "stopped")],
               "nics": [nic(nic_id(SUB2, "rg-x", "x1"), ("10.2.0.4", True, None))], "pips": []},
    }


def test_four_lists_per_subscription_joined_into_hostvars():
    client = FakeClient(world())
    hosts = _fleet.fleet(client, [SUB, SUB2])
    assert [h["azure_vm_name"] for h in hosts] == ["win1", "web1", "x1"]  # sorted by resource ID
    assert len(client.calls) == 8
    assert {(c[0].split("/providers/")[1], tuple(c[2].items())) for c in client.calls if SUB in c[0]} == {
        ("Microsoft.Compute/virtualMachines", ()),
        ("Microsoft.Compute/virtualMachines", (("statusOnly", "true"),)),
        ("Microsoft.Network/networkInterfaces", ()),
        ("Microsoft.Network/publicIPAddresses", ()),
    }
    web1 = hosts[1]
    assert web1["azure_resource_group"] == "rg-web" and web1["azure_subscription_id"] == SUB
    assert web1["azure_power_state"] == "running" and hosts[0]["azure_power_state"] == "deallocated"
    # The primary IP configuration comes first, whatever its position.
    assert web1["azure_private_ips"] == ["10.0.0.4", "10.0.0.9"] and web1["azure_private_ip"] == "10.0.0.4"
    assert web1["azure_public_ip"] == "192.0.2.1" and _fleet.ansible_host(web1) == "10.0.0.4"
    assert web1["azure_identity"] == {
        "type": "SystemAssigned, UserAssigned", "principal_id": "p-sys", "tenant_id": "t",
        "user_assigned": [{"id": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/"
                                 "userAssignedIdentities/app", "name": "app", "client_id": "c-app",
                           "principal_id": "p-app"}]}
    assert hosts[0]["azure_identity"] == {"type": "None", "principal_id": None, "tenant_id": None,
                                          "user_assigned": []}
    assert hosts[0]["azure_os_type"] == "Windows" and hosts[0]["azure_vm_size"] == "Standard_B2s"


def test_public_ip_host_address_falls_back_to_private():
    hosts = _fleet.fleet(FakeClient(world()), [SUB])
    assert {h["azure_vm_name"]: _fleet.ansible_host(h, "public_ip") for h in hosts} == {
        "web1": "192.0.2.1", "win1": "10.1.0.4"}


def test_primary_nic_of_several_comes_first():
    second = nic_id(SUB, "rg-web", "multi", "Second")
    first = nic_id(SUB, "rg-web", "multi", "First")
    multi = vm(SUB, "rg-web", "multi", nics=[{"id": second}, {"id": first, "properties": {"primary": True}}])
    data = {SUB: {"vms": [multi], "statuses": [], "pips": [],
                  "nics": [nic(second, ("10.0.1.4", True, None)), nic(first, ("10.0.0.4", True, None))]}}
    (host,) = _fleet.fleet(FakeClient(data), [SUB])
    assert host["azure_private_ips"] == ["10.0.0.4", "10.0.1.4"] and host["azure_power_state"] is None


@pytest.mark.parametrize(
    "raw, names",
    [
        ({"resource_groups": ["RG-WEB"]}, ["web1"]),
        ({"locations": ["East US"]}, ["win1"]),
        ({"tags": {"env": "prod"}}, ["web1"]),
        ({"tags": {"env": ["prod", "dev"]}}, ["win1", "web1"]),
        ({"tags": {"role": None}}, ["web1"]),
        ({"tags": {"env": "dev"}, "resource_groups": "rg-web"}, []),
    ],
)
def test_filters(raw, names):
    keep = _fleet.parse_filters(raw).keep
    assert [h["azure_vm_name"] for h in _fleet.fleet(FakeClient(world()), [SUB]) if keep(h)] == names


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"resource_group": ["a"]}, "filters has unknown key(s) resource_group; the keys are"),
        ({"tags": ["env"]}, "filters.tags=['env'] is not a mapping"),
        ({"locations": [1]}, "filters.locations=[1] is not a list of names"),
        ("rg-web", "filters='rg-web' is not a mapping"),
    ],
)
def test_bad_filters_name_the_option(raw, message):
    with pytest.raises(ConfigurationError) as err:
        _fleet.parse_filters(raw)
    assert message in str(err.value)


def test_unreadable_subscription_fails_naming_it():
    data = world()
    data[SUB2] = PermissionDenied("The client does not have authorization", status=403, code="AuthorizationFailed")
    with pytest.raises(ArmError) as err:
        _fleet.fleet(FakeClient(data), [SUB, SUB2])
    assert str(err.value).startswith("Failed to list the virtual machines of subscription %s (HTTP 403, " % SUB2)


def test_unreadable_subscription_skipped_with_a_warning():
    data = world()
    data[SUB] = ArmError("no answer from https://management.azure.com after 6 attempt(s) (ReadTimeout)")
    warnings = []
    hosts = _fleet.fleet(FakeClient(data), [SUB, SUB2], on_subscription_error="skip", warn=warnings.append)
    assert [h["azure_vm_name"] for h in hosts] == ["x1"]
    assert warnings == ["subscription %s skipped, its VMs are not in the inventory: Failed to list the virtual "
                        "machines of subscription %s: no answer from https://management.azure.com after 6 "
                        "attempt(s) (ReadTimeout)" % (SUB, SUB)]
