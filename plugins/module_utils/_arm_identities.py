# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Managed identities as ARM resources and settings: the ``identity`` block of VMs and scale sets, and
user-assigned identities. (Tokens from the host's own identity endpoints are ``_host_identity_endpoints``.)

The pure part plans the identity block (what to keep, add and drop, and the ``type`` string);
``update_identity`` reads, plans and PATCHes with ``If-Match`` so a concurrent change is never lost.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    ConfigurationError,
    NotFoundError,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._resource_ids import resource_group_id

COMPUTE_API_VERSION = "2024-11-01"
MSI_API_VERSION = "2023-01-31"

RESOURCE_KINDS = {
    "virtual_machine": ("virtualMachines", "virtual machine"),
    "virtual_machine_scale_set": ("virtualMachineScaleSets", "virtual machine scale set"),
}
UAMI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
USER_ASSIGNED_MODES = ("add", "remove", "exact")
# A concurrent writer that keeps changing the resource between our GET and PATCH wins after this many tries.
ETAG_ATTEMPTS = 5


class IdentityState(NamedTuple):
    """A resource's identities: system-assigned on/off and the user-assigned IDs (as ARM stores them)."""

    system_assigned: bool
    user_assigned: Tuple[str, ...]

    def user_keys(self) -> Dict[str, str]:
        return {i.lower(): i for i in self.user_assigned}

    def same_as(self, other: IdentityState) -> bool:
        return self.system_assigned == other.system_assigned and set(self.user_keys()) == set(other.user_keys())


def identity_type(system_assigned: bool, user_assigned: bool) -> str:
    """Azure's ``identity.type``: note the comma *and space* in the combined value (Compute REST spec enum)."""
    if system_assigned and user_assigned:
        return "SystemAssigned, UserAssigned"
    if system_assigned:
        return "SystemAssigned"
    if user_assigned:
        return "UserAssigned"
    return "None"


def parse_identity(identity: Optional[Mapping[str, Any]]) -> IdentityState:
    if not identity:
        return IdentityState(False, ())
    kind = (identity.get("type") or "None").replace(" ", "").lower().split(",")
    users = tuple(sorted(identity.get("userAssignedIdentities") or {}, key=str.lower))
    return IdentityState("systemassigned" in kind, users)


def plan_identity(
    current: IdentityState,
    system_assigned: Optional[bool],
    user_assigned: Optional[Iterable[str]],
    mode: str = "add",
) -> IdentityState:
    """The identities the resource should end with. Only what was asked for changes.

    ``system_assigned`` None leaves the system identity as it is; ``user_assigned`` None leaves the
    user-assigned set as it is (whatever the mode).
    """
    if mode not in USER_ASSIGNED_MODES:
        raise ValueError("mode must be one of %s" % (USER_ASSIGNED_MODES,))
    system = current.system_assigned if system_assigned is None else bool(system_assigned)
    if user_assigned is None:
        return IdentityState(system, current.user_assigned)
    have = current.user_keys()
    asked: Dict[str, str] = {}
    for uid in user_assigned:
        asked.setdefault(uid.lower(), uid)
    if mode == "add":
        result = dict(have)
        for key, uid in asked.items():
            result.setdefault(key, uid)
    elif mode == "remove":
        result = {k: v for k, v in have.items() if k not in asked}
    else:
        result = {k: have.get(k, v) for k, v in asked.items()}
    return IdentityState(system, tuple(sorted(result.values(), key=str.lower)))


def identity_patch(current: IdentityState, desired: IdentityState) -> Optional[Dict[str, Any]]:
    """The PATCH body taking ``current`` to ``desired``, or None when nothing changes.

    Only the ``identity`` block is sent. PATCH replaces ``type`` but merges ``userAssignedIdentities``
    (``null`` detaches one), so kept identities are listed too (entra-docs qs-configure-rest-vm.md).
    """
    if current.same_as(desired):
        return None
    identity: Dict[str, Any] = {"type": identity_type(desired.system_assigned, bool(desired.user_assigned))}
    if desired.user_assigned:
        keep = desired.user_keys()
        users: Dict[str, Any] = {uid: {} for uid in desired.user_assigned}
        users.update({uid: None for key, uid in current.user_keys().items() if key not in keep})
        identity["userAssignedIdentities"] = users
    return {"identity": identity}


def identity_facts(identity: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """What the modules return: type, system principal/tenant, and user-assigned ID → principal/client IDs."""
    identity = identity or {}
    state = parse_identity(identity)
    users = identity.get("userAssignedIdentities") or {}
    return {
        "type": identity_type(state.system_assigned, bool(state.user_assigned)),
        "principal_id": identity.get("principalId") if state.system_assigned else None,
        "tenant_id": identity.get("tenantId") if state.system_assigned else None,
        "user_assigned": {
            uid: {
                "principal_id": (users[uid] or {}).get("principalId"),
                "client_id": (users[uid] or {}).get("clientId"),
            }
            for uid in state.user_assigned
        },
    }


def diff_view(state: IdentityState) -> Dict[str, Any]:
    return {
        "type": identity_type(state.system_assigned, bool(state.user_assigned)),
        "system_assigned": state.system_assigned,
        "user_assigned": sorted(state.user_assigned, key=str.lower),
    }


def resource_path(kind: str, subscription_id: str, resource_group: str, name: str) -> str:
    return "%s/providers/Microsoft.Compute/%s/%s" % (
        resource_group_id(subscription_id, resource_group),
        RESOURCE_KINDS[kind][0],
        name,
    )


def uami_path(subscription_id: str, resource_group: str, name: str) -> str:
    return "%s/providers/%s/%s" % (resource_group_id(subscription_id, resource_group), UAMI_TYPE, name)


def uami_id(value: str, subscription_id: str, resource_group: str, option: str = "user_assigned") -> str:
    """A user-assigned identity's resource ID, from an ID or from a name in ``resource_group``."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("%s: %r is empty. Pass an identity name or resource ID." % (option, value))
    if value.startswith("/"):
        segments = value.rstrip("/").split("/")
        if (
            len(segments) != 9
            or segments[1].lower() != "subscriptions"
            or segments[3].lower() != "resourcegroups"
            or "/".join(segments[5:8]).lower() != "providers/%s" % UAMI_TYPE.lower()
            or not all(segments[1:])
        ):
            raise ConfigurationError(
                "%s: %r is not a user-assigned identity ID. Expected /subscriptions/<GUID>/resourceGroups/<name>/"
                "providers/%s/<name>, or just the name of an identity in resource group %r."
                % (option, value, UAMI_TYPE, resource_group)
            )
        return value.rstrip("/")
    if "/" in value:
        raise ConfigurationError(
            "%s: %r is neither an identity name nor a resource ID (IDs start with /subscriptions/)." % (option, value)
        )
    return uami_path(subscription_id, resource_group, value)


def get_uami(client: Any, identity_id: str, option: str = "user_assigned") -> Dict[str, Any]:
    """GET a user-assigned identity; a missing one is a ConfigurationError naming ``option``."""
    try:
        return client.get(identity_id, MSI_API_VERSION)
    except NotFoundError as err:
        raise ConfigurationError(
            "%s: the user-assigned identity %s does not exist (%s). Create it first (user_assigned_identity), "
            "or fix the name, resource group or subscription in the ID." % (option, identity_id, err)
        ) from err


def uami_facts(resource: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    resource = resource or {}
    props = resource.get("properties") or {}
    return {
        "id": resource.get("id"),
        "name": resource.get("name"),
        "location": resource.get("location"),
        "tags": resource.get("tags") or {},
        "client_id": props.get("clientId"),
        "principal_id": props.get("principalId"),
        "tenant_id": props.get("tenantId"),
    }


def _etag(response: Any) -> Optional[str]:
    body = response.body or {}
    if body.get("etag"):
        return body["etag"]
    for name, value in (response.headers or {}).items():
        if name.lower() == "etag":
            return value
    return None


def check_ownership_tag(tag: Optional[Mapping[str, Any]], option: str = "ownership_tag") -> Optional[Tuple[str, str]]:
    """The (name, value) of an ownership tag option: one entry, a non-empty name and value."""
    if not tag:
        return None
    if len(tag) != 1:
        raise ConfigurationError(
            "%s: %r has %d entries; give exactly one tag, e.g. {managed_identity.azure: system-assigned-identity}."
            % (option, dict(tag), len(tag))
        )
    ((name, value),) = tag.items()
    if not str(name).strip() or value is None or not str(value).strip():
        raise ConfigurationError("%s: %r needs a tag name and a non-empty value." % (option, dict(tag)))
    return str(name), str(value)


def claim_system_identity(
    before: IdentityState, desired: IdentityState, tags: Mapping[str, str], ownership_tag: Tuple[str, str]
) -> Tuple[IdentityState, Optional[Dict[str, str]]]:
    """Record in the resource's own tags that we turned its system-assigned identity on, in the same PATCH.

    Turning it on adds the tag; turning it off happens only when the tag is there (we made it), and removes the tag.
    Anything else leaves the tags alone (None). Tag names are case-insensitive in Azure, values are not.
    Returns the identities to end with and the resource's new tags (a PATCH replaces the whole tags object).
    """
    name, value = ownership_tag
    key = next((k for k in tags if k.lower() == name.lower()), None)
    others = {k: v for k, v in tags.items() if k != key}
    if desired.system_assigned and not before.system_assigned:
        return desired, dict(others, **{name: value})
    if before.system_assigned and not desired.system_assigned:
        if key is None or tags[key] != value:
            return desired._replace(system_assigned=True), None  # not ours: it stays on
        return desired, others
    return desired, None


class IdentityUpdate(NamedTuple):
    changed: bool
    before: Dict[str, Any]  # the resource as read
    after: Optional[Dict[str, Any]]  # the resource after the PATCH (None in check mode or when unchanged)
    before_state: IdentityState
    after_state: IdentityState


def update_identity(
    client: Any,
    path: str,
    plan: Callable[[IdentityState], IdentityState],
    *,
    check_mode: bool = False,
    ownership_tag: Optional[Tuple[str, str]] = None,
    attempts: int = ETAG_ATTEMPTS,
) -> IdentityUpdate:
    """Read the resource, plan its identities from what is there now, PATCH the difference with If-Match.

    A 412 means someone changed the resource after our read: read again and re-plan, so their change
    is kept (Compute honours If-Match on PATCH). The PATCH waits for the long-running update to end.
    With ``ownership_tag`` the system-assigned identity is claimed through the resource's tags in the same
    PATCH (``claim_system_identity``): the record and the change land together or not at all, so a reply lost
    after ARM applied it (the retry then gets 412, re-reads and finds both) cannot separate them.
    """
    for _attempt in range(attempts):
        response = client.request("GET", path, api_version=COMPUTE_API_VERSION, expected_status=(200,))
        resource = response.body or {}
        before = parse_identity(resource.get("identity"))
        desired = plan(before)
        tags = None
        if ownership_tag is not None:
            desired, tags = claim_system_identity(before, desired, resource.get("tags") or {}, ownership_tag)
        body = identity_patch(before, desired)
        if tags is not None:
            body = dict(body or {}, tags=tags)
        if body is None or check_mode:
            return IdentityUpdate(body is not None, resource, None, before, desired)
        etag = _etag(response)
        try:
            updated = client.request(
                "PATCH",
                path,
                api_version=COMPUTE_API_VERSION,
                body=body,
                headers={"If-Match": etag} if etag else None,
                expected_status=(200, 201, 202),
                wait=True,
            )
        except ArmError as err:
            if err.status == 412:
                continue
            raise
        after = updated.body or {}
        return IdentityUpdate(True, resource, after, before, parse_identity(after.get("identity")))
    raise ArmError(
        "%s kept changing while we updated its identity (HTTP 412 on %d attempts in a row). Another process is "
        "writing to it; run again when it is done." % (path, attempts),
        status=412,
        code="PreconditionFailed",
    )


def missing_resource(
    err: NotFoundError, kind: str, name: str, resource_group: str, subscription_id: str
) -> ConfigurationError:
    """Turn a 404 on the VM/VMSS into an error naming the option to fix."""
    label = RESOURCE_KINDS[kind][1]
    option = "resource_group" if err.code == "ResourceGroupNotFound" else "name"
    return ConfigurationError(
        "%s: %s %r was not found in resource group %r of subscription %s (%s). Check name, resource_group, "
        "subscription_id and resource_type." % (option, label, name, resource_group, subscription_id, err)
    )


def requested_uamis(values: Optional[List[str]], subscription_id: str, resource_group: str) -> Optional[List[str]]:
    if values is None:
        return None
    return [uami_id(v, subscription_id, resource_group) for v in values]


def predicted_facts(
    current_identity: Optional[Mapping[str, Any]], desired: IdentityState, known: Mapping[str, Mapping[str, Any]]
) -> Dict[str, Any]:
    """Check mode's answer: IDs already there are kept; a system identity not created yet has no principal ID.

    ``known`` maps lower-cased user-assigned identity IDs to their GETs (for principal and client IDs).
    """
    current = dict(current_identity or {})
    had_system = parse_identity(current).system_assigned
    have = {k.lower(): v for k, v in (current.get("userAssignedIdentities") or {}).items()}
    users: Dict[str, Any] = {}
    for uid in desired.user_assigned:
        if uid.lower() in have:
            users[uid] = have[uid.lower()] or {}
        else:
            props = (known.get(uid.lower()) or {}).get("properties") or {}
            users[uid] = {"principalId": props.get("principalId"), "clientId": props.get("clientId")}
    block: Dict[str, Any] = {"type": identity_type(desired.system_assigned, bool(desired.user_assigned))}
    if desired.system_assigned and had_system:
        block.update(principalId=current.get("principalId"), tenantId=current.get("tenantId"))
    if users:
        block["userAssignedIdentities"] = users
    return identity_facts(block)
