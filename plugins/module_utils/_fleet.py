# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VMs of some subscriptions as inventory hosts, for the ``azure_vms`` inventory plugin.

Four list calls per subscription, whatever the number of VMs: the VMs, their power states (``statusOnly=true``,
which answers the run-time status but not the model, so it cannot replace the first list), the network interfaces
and the public IP addresses. The ARM client follows each list's ``nextLink`` pages and retries throttling and
transient failures; the lists are joined here by resource ID. No request per VM, no ``/batch``.

A list that still fails after the retries fails the whole subscription: a fleet is never silently partial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional

from ansible_collections.managed_identity.azure.plugins.module_utils._arm_identities import COMPUTE_API_VERSION
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AzureError, ConfigurationError
from ansible_collections.managed_identity.azure.plugins.module_utils._resource_ids import location_key

NETWORK_API_VERSION = "2024-05-01"
HOST_ADDRESSES = ("private_ip", "public_ip")
FILTER_KEYS = ("resource_groups", "locations", "tags")
SUBSCRIPTION_ERRORS = ("fail", "skip")


@dataclass
class Filters:
    """Which VMs to keep. Empty means no restriction. Names compare case-insensitively, as ARM does."""

    resource_groups: frozenset = frozenset()
    locations: frozenset = frozenset()
    # tag name -> accepted values (None: any value, the tag only has to be there)
    tags: Dict[str, Optional[frozenset]] = field(default_factory=dict)

    def keep(self, host: Mapping[str, Any]) -> bool:
        if self.resource_groups and host["azure_resource_group"].lower() not in self.resource_groups:
            return False
        if self.locations and location_key(host["azure_location"]) not in self.locations:
            return False
        tags = {str(k).lower(): v for k, v in (host["azure_tags"] or {}).items()}
        for name, values in self.tags.items():
            if name not in tags:
                return False
            if values is not None and str(tags[name]) not in values:
                return False
        return True


def parse_filters(raw: Optional[Mapping[str, Any]]) -> Filters:
    """The ``filters`` option, checked: an unknown key or a wrong shape names the option and the fix."""
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise ConfigurationError(
            "filters=%r is not a mapping; give e.g. filters: {resource_groups: [rg-web], tags: {env: prod}}" % (raw,)
        )
    unknown = sorted(set(raw) - set(FILTER_KEYS))
    if unknown:
        raise ConfigurationError(
            "filters has unknown key(s) %s; the keys are %s" % (", ".join(unknown), ", ".join(FILTER_KEYS))
        )
    groups = _names(raw.get("resource_groups"), "filters.resource_groups")
    locations = _names(raw.get("locations"), "filters.locations")
    tags_raw = raw.get("tags") or {}
    if not isinstance(tags_raw, Mapping):
        raise ConfigurationError(
            "filters.tags=%r is not a mapping of tag name to value (or list of values, or null for any value)"
            % (tags_raw,)
        )
    tags: Dict[str, Optional[frozenset]] = {}
    for name, value in tags_raw.items():
        if value is None:
            tags[str(name).lower()] = None
        elif isinstance(value, (list, tuple)):
            tags[str(name).lower()] = frozenset(str(v) for v in value)
        else:
            tags[str(name).lower()] = frozenset([str(value)])
    return Filters(
        frozenset(g.lower() for g in groups),
        frozenset(location_key(loc) for loc in locations),
        tags,
    )


def _names(value: Any, option: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigurationError("%s=%r is not a list of names" % (option, value))


def _split_id(resource_id: str) -> Dict[str, str]:
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]
    found = {"subscription": "", "resource_group": "", "name": parts[-1] if parts else ""}
    if "subscriptions" in lowered:
        found["subscription"] = parts[lowered.index("subscriptions") + 1]
    if "resourcegroups" in lowered:
        found["resource_group"] = parts[lowered.index("resourcegroups") + 1]
    return found


def _by_id(items: Iterable[Mapping[str, Any]]) -> Dict[str, Mapping[str, Any]]:
    return {str(item.get("id", "")).lower(): item for item in items if item.get("id")}


def _power_state(status_item: Optional[Mapping[str, Any]]) -> Optional[str]:
    statuses = (((status_item or {}).get("properties") or {}).get("instanceView") or {}).get("statuses") or []
    for status in statuses:
        code = str(status.get("code") or "")
        if code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1]
    return None


def _identity(vm: Mapping[str, Any]) -> Dict[str, Any]:
    identity = vm.get("identity") or {}
    user_assigned = []
    for uami_id, details in sorted((identity.get("userAssignedIdentities") or {}).items()):
        details = details or {}
        user_assigned.append(
            {
                "id": uami_id,
                "name": uami_id.rsplit("/", 1)[-1],
                "client_id": details.get("clientId"),
                "principal_id": details.get("principalId"),
            }
        )
    return {
        "type": identity.get("type") or "None",
        "principal_id": identity.get("principalId"),
        "tenant_id": identity.get("tenantId"),
        "user_assigned": user_assigned,
    }


def _addresses(
    vm: Mapping[str, Any], nics: Mapping[str, Mapping[str, Any]], pips: Mapping[str, Mapping[str, Any]]
) -> Dict[str, List[str]]:
    """Private and public addresses of the VM's NICs, the primary NIC's primary IP configuration first."""
    refs = ((vm.get("properties") or {}).get("networkProfile") or {}).get("networkInterfaces") or []
    # A VM with several NICs marks one primary; with one NIC the flag is often absent.
    ordered = sorted(refs, key=lambda ref: not (ref.get("properties") or {}).get("primary", ref.get("primary")))
    private: List[str] = []
    public: List[str] = []
    for ref in ordered:
        nic = nics.get(str(ref.get("id", "")).lower())
        if nic is None:
            continue
        configs = (nic.get("properties") or {}).get("ipConfigurations") or []
        for config in sorted(configs, key=lambda c: not (c.get("properties") or {}).get("primary")):
            props = config.get("properties") or {}
            if props.get("privateIPAddress"):
                private.append(props["privateIPAddress"])
            pip = pips.get(str((props.get("publicIPAddress") or {}).get("id", "")).lower())
            address = ((pip or {}).get("properties") or {}).get("ipAddress")
            if address:
                public.append(address)
    return {"private": private, "public": public}


def vm_hostvars(
    vm: Mapping[str, Any],
    subscription_id: str,
    statuses: Mapping[str, Mapping[str, Any]],
    nics: Mapping[str, Mapping[str, Any]],
    pips: Mapping[str, Mapping[str, Any]],
) -> Dict[str, Any]:
    """One VM's host variables, named to plug into the roles (azure_vm_name, azure_resource_group, ...)."""
    props = vm.get("properties") or {}
    parts = _split_id(vm["id"])
    addresses = _addresses(vm, nics, pips)
    os_disk = (props.get("storageProfile") or {}).get("osDisk") or {}
    hostvars: Dict[str, Any] = {
        "azure_vm_name": vm.get("name") or parts["name"],
        "azure_resource_group": parts["resource_group"],
        "azure_subscription_id": parts["subscription"] or subscription_id,
        "azure_resource_id": vm["id"],
        "azure_vm_id": props.get("vmId"),
        "azure_location": vm.get("location"),
        "azure_vm_size": (props.get("hardwareProfile") or {}).get("vmSize"),
        "azure_os_type": os_disk.get("osType"),
        "azure_computer_name": (props.get("osProfile") or {}).get("computerName"),
        "azure_provisioning_state": props.get("provisioningState"),
        "azure_power_state": _power_state(statuses.get(vm["id"].lower())),
        "azure_tags": dict(vm.get("tags") or {}),
        "azure_identity": _identity(vm),
        "azure_private_ips": addresses["private"],
        "azure_public_ips": addresses["public"],
        "azure_private_ip": (addresses["private"] or [None])[0],
        "azure_public_ip": (addresses["public"] or [None])[0],
    }
    return hostvars


def ansible_host(hostvars: Mapping[str, Any], host_address: str = "private_ip") -> Optional[str]:
    """The address Ansible connects to. public_ip falls back to the private address for VMs without a public one
    (reachable through a VPN or peering)."""
    address = hostvars.get("azure_public_ip") if host_address == "public_ip" else None
    return address or hostvars.get("azure_private_ip")


class SubscriptionLister:
    """The four lists of one subscription through an ArmClient (anything with ``list(path, version, ...)``)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def _list(self, subscription_id: str, what: str, path: str, version: str, **query: str) -> List[Any]:
        action = "list the %s of subscription %s" % (what, subscription_id)
        try:
            return self.client.list(
                "/subscriptions/%s/providers/%s" % (subscription_id, path), version, query=query or None, action=action
            )
        except AzureError as err:
            raise err.with_action(action) from None

    def hosts(self, subscription_id: str) -> List[Dict[str, Any]]:
        vms = self._list(subscription_id, "virtual machines", "Microsoft.Compute/virtualMachines", COMPUTE_API_VERSION)
        statuses = self._list(
            subscription_id,
            "virtual machine power states",
            "Microsoft.Compute/virtualMachines",
            COMPUTE_API_VERSION,
            statusOnly="true",
        )
        nics = self._list(
            subscription_id, "network interfaces", "Microsoft.Network/networkInterfaces", NETWORK_API_VERSION
        )
        pips = self._list(
            subscription_id, "public IP addresses", "Microsoft.Network/publicIPAddresses", NETWORK_API_VERSION
        )
        by_status, by_nic, by_pip = _by_id(statuses), _by_id(nics), _by_id(pips)
        return [vm_hostvars(vm, subscription_id, by_status, by_nic, by_pip) for vm in vms if vm.get("id")]


def fleet(
    client: Any,
    subscription_ids: Iterable[str],
    *,
    on_subscription_error: str = "fail",
    warn: Optional[Callable[[str], None]] = None,
) -> List[Dict[str, Any]]:
    """Host variables of every VM of the subscriptions, in a stable order (filters apply later, so that a cached
    fleet follows a change of them)."""
    lister = SubscriptionLister(client)
    hosts: List[Dict[str, Any]] = []
    for subscription_id in subscription_ids:
        try:
            found = lister.hosts(subscription_id)
        except AzureError as err:
            if on_subscription_error != "skip":
                raise
            if warn is not None:
                warn("subscription %s skipped, its VMs are not in the inventory: %s" % (subscription_id, err))
            continue
        hosts.extend(found)
    hosts.sort(key=lambda h: h["azure_resource_id"].lower())
    return hosts
