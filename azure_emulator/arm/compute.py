"""Virtual machines and scale sets (Microsoft.Compute): CRUD, the ``identity`` semantics, long-running updates.

Identity rules (entra-docs includes/qs-configure-rest-vm.md; REFERENCE.md section 6 "Virtual machines"):
- ``type`` is one of "SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned" (comma and space), "None";
- a PATCH replaces ``type``: PATCH with "SystemAssigned" drops the user-assigned identities, which is why the doc
  tells callers to GET first;
- ``userAssignedIdentities`` is keyed by UAMI resource id (case-insensitive); ``{}`` adds one, ``null`` removes it;
  in a PATCH the map merges with the current one, in a PUT it replaces it;
- enabling the system identity mints a service principal, disabling it deletes that principal;
- adding a UAMI needs ``Microsoft.ManagedIdentity/userAssignedIdentities/assign/action`` on it (403
  LinkedAuthorizationFailed, checked by ARM before the provider sees the request, so it comes first).
Power state: a VM is "running" unless the seed says otherwise; GET with ``$expand=instanceView``, GET of
``.../instanceView`` and the subscription list with ``statusOnly=true`` show it as ``PowerState/<state>`` in
``instanceView.statuses`` (second entry, after the provisioning state). ``statusOnly=true`` answers the run-time
status only, without tags or profiles (callers that need both list twice and join by id).
Writes are long-running: 200/201 with ``provisioningState`` "Updating"/"Creating", ``Azure-AsyncOperation`` and
``Retry-After``; the operation reports InProgress until ``lro_delay`` passed (async-operations.md). The identity change
itself is stored at once, so IMDS sees it as soon as the request is accepted.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from aiohttp import web

from .. import resources as arm_json
from . import common, errors, network
from .app import Ctx, respond
from .errors import ArmError
from .groups import remove_resource_principals

KINDS = {"virtualmachines": "virtualMachines", "virtualmachinescalesets": "virtualMachineScaleSets"}
IDENTITY_TYPES = ("SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned", "None")
ASSIGN_ACTION = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
UAMI_TYPE = "microsoft.managedidentity/userassignedidentities"
POWER_STATES = ("running", "stopped", "deallocated", "starting", "stopping", "deallocating")
POWER_KEY = "power_states"  # world.extra: lower(VM id) -> state, for VMs that are not running


class Operations:
    """Long-running operations of the compute provider, by id; plus the resource each one is updating."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict] = {}
        self.by_resource: dict[str, dict] = {}

    def start(self, resource_id: str, now: float, delay: float, state: str) -> dict:
        op = {"name": str(uuid.uuid4()), "start": now, "end": now + delay, "state": state,
              "resource": resource_id.lower()}
        self.by_id[op["name"]] = op
        self.by_resource[resource_id.lower()] = op
        return op

    def running_state(self, resource_id: str, now: float) -> str | None:
        op = self.by_resource.get(resource_id.lower())
        if op is None:
            return None
        if now >= op["end"]:
            del self.by_resource[resource_id.lower()]
            return None
        return op["state"]


def _full_type(kind: str) -> str:
    return f"Microsoft.Compute/{kind}"


def _render(ctx: Ctx, resource: dict) -> dict:
    """The resource as GET shows it now: "Updating" while an operation runs."""
    state = ctx.app.compute_ops.running_state(resource["id"], ctx.world.now())
    if state is None:
        return resource
    shown = copy.deepcopy(resource)
    shown.setdefault("properties", {})["provisioningState"] = state
    return shown


def power_state(world: Any, vm_id: str) -> str:
    return world.extra.get(POWER_KEY, {}).get(vm_id.lower(), "running")


def set_power_state(world: Any, vm_id: str, state: str) -> None:
    states = world.extra.setdefault(POWER_KEY, {})
    if state == "running":
        states.pop(vm_id.lower(), None)
    else:
        states[vm_id.lower()] = state


def _instance_view(ctx: Ctx, resource: dict) -> dict:
    props = resource.get("properties") or {}
    provisioning = _render(ctx, resource)["properties"].get("provisioningState", "Succeeded")
    state = power_state(ctx.world, resource["id"])
    return {
        "computerName": (props.get("osProfile") or {}).get("computerName", resource["name"]),
        "osName": "Windows Server 2022 Datacenter Azure Edition"
        if ((props.get("storageProfile") or {}).get("osDisk") or {}).get("osType") == "Windows" else "ubuntu",
        "hyperVGeneration": "V2",
        "statuses": [
            {"code": f"ProvisioningState/{provisioning.lower()}", "level": "Info",
             "displayStatus": f"Provisioning {provisioning.lower()}", "time": props.get("timeCreated")},
            {"code": f"PowerState/{state}", "level": "Info", "displayStatus": f"VM {state}"},
        ],
    }


def _status_only(ctx: Ctx, resource: dict) -> dict:
    return {"name": resource["name"], "id": resource["id"], "type": resource["type"], "location": resource["location"],
            "properties": {"vmId": (resource.get("properties") or {}).get("vmId"),
                           "instanceView": _instance_view(ctx, resource)}}


def _kind(ctx: Ctx) -> str:
    return KINDS[ctx.params["kind"].lower()]


def _location_for_version(ctx: Ctx, resource: dict | None) -> str:
    if resource is not None:
        return resource.get("location", "global")
    group = ctx.world.get(common.rg_scope(ctx.params["sub"], ctx.params["rg"])) if ctx.params.get("rg") else None
    return group["location"] if group else "global"


async def list_in_group(ctx: Ctx) -> web.Response:
    kind = _kind(ctx)
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    ctx.check_version(kind, _location_for_version(ctx, None))
    scope = common.rg_scope(sub, ctx.params["rg"])
    ctx.require(f"{_full_type(kind)}/read", scope)
    common.resource_group(ctx.world, sub, ctx.params["rg"])
    items = common.resources_of_type(ctx.world, _full_type(kind), sub, ctx.params["rg"])
    return respond(200, ctx.page([_render(ctx, r) for r in sorted(items, key=lambda r: r["id"].lower())]))


async def list_in_subscription(ctx: Ctx) -> web.Response:
    kind = _kind(ctx)
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    ctx.check_version(kind)
    ctx.require(f"{_full_type(kind)}/read", f"/subscriptions/{sub}")
    items = sorted(common.resources_of_type(ctx.world, _full_type(kind), sub), key=lambda r: r["id"].lower())
    if kind == "virtualMachines" and ctx.request.query.get("statusOnly", "").lower() == "true":
        return respond(200, ctx.page([_status_only(ctx, r) for r in items]))
    return respond(200, ctx.page([_render(ctx, r) for r in items]))


async def instance_view(ctx: Ctx) -> web.Response:
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    rid = f"{common.rg_scope(sub, ctx.params['rg'])}/providers/Microsoft.Compute/virtualMachines/{ctx.params['name']}"
    existing = ctx.world.get(rid)
    ctx.check_version("virtualMachines", _location_for_version(ctx, existing))
    ctx.require("Microsoft.Compute/virtualMachines/read", existing["id"] if existing else rid)
    group = common.resource_group(ctx.world, sub, ctx.params["rg"])
    if existing is None:
        raise errors.resource_not_found("Microsoft.Compute/virtualMachines", ctx.params["name"], group["name"])
    return respond(200, _instance_view(ctx, existing))


async def machine(ctx: Ctx) -> web.Response:
    kind = _kind(ctx)
    full_type = _full_type(kind)
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    rid = f"{common.rg_scope(sub, ctx.params['rg'])}/providers/{full_type}/{ctx.params['name']}"
    existing = ctx.world.get(rid)
    ctx.check_version(kind, _location_for_version(ctx, existing))
    scope = existing["id"] if existing else rid
    ctx.require(f"{full_type}/{common.CRUD_ACTIONS[ctx.method]}", scope)
    group = common.resource_group(ctx.world, sub, ctx.params["rg"])
    if ctx.method == "GET":
        if existing is None:
            raise errors.resource_not_found(full_type, ctx.params["name"], group["name"])
        if kind == "virtualMachines" and ctx.request.query.get("$expand", "").lower() == "instanceview":
            shown = copy.deepcopy(_render(ctx, existing))
            shown["properties"]["instanceView"] = _instance_view(ctx, existing)
            return respond(200, shown)
        return respond(200, _render(ctx, existing))
    if ctx.method == "DELETE":
        if existing is None:
            return respond(204)
        _check_if_match(ctx, existing)
        remove_resource_principals(ctx.world, existing)
        network.detach(ctx.world, existing)
        set_power_state(ctx.world, existing["id"], "running")
        ctx.world.delete(existing["id"])
        ctx.world.commit()
        return _accepted(ctx, existing, status=202, state=None)
    body = await ctx.json()
    if ctx.method == "PATCH":
        if existing is None:
            raise errors.resource_not_found(full_type, ctx.params["name"], group["name"])
        _check_if_match(ctx, existing)
        return _write(ctx, existing, _patched(existing, body), body.get("identity", _KEEP), patch=True)
    if existing is None:
        if ctx.request.headers.get("If-Match"):
            raise errors.precondition_failed(ctx.request.headers["If-Match"], '""')
        return _create(ctx, kind, group, rid, body)
    if ctx.request.headers.get("If-None-Match", "").strip() == "*":
        raise errors.precondition_failed("*", existing.get("etag", ""))
    _check_if_match(ctx, existing)
    return _write(ctx, existing, _replaced(existing, body), body.get("identity"), patch=False)


_KEEP = object()


def _check_if_match(ctx: Ctx, existing: dict) -> None:
    wanted = ctx.request.headers.get("If-Match")
    if wanted is None or wanted.strip() == "*":
        return
    if wanted.strip() != existing.get("etag"):
        raise errors.precondition_failed(wanted.strip(), existing.get("etag", ""))


def _next_etag(resource: dict) -> str:
    try:
        return f'"{int(resource.get("etag", "0").strip(chr(34))) + 1}"'
    except ValueError:
        return '"1"'


def _patched(existing: dict, body: dict) -> dict:
    updated = copy.deepcopy(existing)
    if "tags" in body:
        updated["tags"] = body["tags"] or {}
    _merge(updated.setdefault("properties", {}), body.get("properties") or {})
    if body.get("sku") and "sku" in updated:
        _merge(updated["sku"], body["sku"])
    return updated


def _replaced(existing: dict, body: dict) -> dict:
    updated = copy.deepcopy(existing)
    updated["tags"] = body.get("tags") or {}
    keep = {k: updated["properties"][k] for k in ("vmId", "uniqueId", "timeCreated") if k in updated["properties"]}
    updated["properties"] = {**copy.deepcopy(body.get("properties") or {}), **keep}
    if body.get("sku"):
        updated["sku"] = copy.deepcopy(body["sku"])
    return updated


def _merge(target: dict, changes: dict) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _create(ctx: Ctx, kind: str, group: dict, rid: str, body: dict) -> web.Response:
    location = body.get("location")
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    sub = common.parse_scope(rid)["subscription"]
    name = ctx.params["name"]
    now = ctx.world.now()
    os_type = ((((body.get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {})
               .get("osType") or "Linux")
    if kind == "virtualMachines":
        size = (((body.get("properties") or {}).get("hardwareProfile") or {}).get("vmSize")) or "Standard_D2s_v3"
        base = arm_json.virtual_machine(sub, group["name"], name, location, os_type, size, str(uuid.uuid4()), now,
                                        None, body.get("tags"))
    else:
        sku = body.get("sku") or {}
        base = arm_json.scale_set(sub, group["name"], name, location, os_type, sku.get("name") or "Standard_D2s_v3",
                                  int(sku.get("capacity") or 2), str(uuid.uuid4()), now, None, body.get("tags"))
    base["etag"] = '"0"'
    _merge(base["properties"], body.get("properties") or {})
    response = _write(ctx, None, base, body.get("identity"), patch=False)
    if kind == "virtualMachines":
        # Azure needs the NICs first; the emulator makes the ones the VM names, so every VM has one.
        network.attach(ctx.world, base, network.Addresses(ctx.world))
        ctx.world.commit()
    return response


def _write(ctx: Ctx, existing: dict | None, updated: dict, identity: Any, *, patch: bool) -> web.Response:
    """Validate and apply the identity change, store the resource, start the long-running operation."""
    old_identity = (existing or {}).get("identity")
    if identity is not _KEEP:
        new_identity = _resolve_identity(ctx, updated, old_identity, identity, patch=patch)
        if new_identity is None:
            updated.pop("identity", None)
        else:
            updated["identity"] = new_identity
    updated["etag"] = _next_etag(updated if existing is None else existing)
    updated.setdefault("properties", {})["provisioningState"] = "Succeeded"
    ctx.world.put(updated)
    ctx.world.commit()
    return _accepted(ctx, updated, status=200 if existing else 201,
                     state="Updating" if existing else "Creating")


def _accepted(ctx: Ctx, resource: dict, *, status: int, state: str | None) -> web.Response:
    now = ctx.world.now()
    op = ctx.app.compute_ops.start(resource["id"], now, float(ctx.world.knobs.lro_delay), state or "Deleting")
    sub = common.parse_scope(resource["id"])["subscription"]
    location = resource.get("location", "westus").replace(" ", "").lower()
    url = ctx.url(f"/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/operations/{op['name']}",
                  **{"p": str(uuid.uuid4()), "api-version": ctx.api_version})
    headers = {"Azure-AsyncOperation": url, "Retry-After": str(ctx.world.knobs.retry_after)}
    if state is None:
        headers["Location"] = url + "&monitor=true"
        return respond(status, None, headers)
    return respond(status, _render(ctx, resource), headers)


async def operation(ctx: Ctx) -> web.Response:
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    ctx.check_version("locations/operations", ctx.params["loc"])
    ctx.require("Microsoft.Compute/locations/operations/read", f"/subscriptions/{sub}")
    op = ctx.app.compute_ops.by_id.get(ctx.params["op"].lower())
    if op is None:
        raise ArmError(404, "NotFound", f"The operation '{ctx.params['op']}' could not be found.")
    now = ctx.world.now()
    body: dict[str, Any] = {"startTime": common.iso_now(op["start"]), "status": "InProgress", "name": op["name"]}
    if now >= op["end"]:
        body = {"startTime": body["startTime"], "endTime": common.iso_now(op["end"]), "status": "Succeeded",
                "name": op["name"]}
    running = body["status"] == "InProgress"
    # While running, polls carry Retry-After too; clients fall back to long default intervals without it.
    headers = {"Retry-After": str(ctx.world.knobs.retry_after)} if running else None
    if ctx.request.query.get("monitor") == "true":
        return respond(202 if running else 200, None, headers)
    return respond(200, body, headers)


# -- identity -------------------------------------------------------------------------------------------------------

def _resolve_identity(ctx: Ctx, resource: dict, old: dict | None, requested: Any, *, patch: bool) -> dict | None:
    """The identity block after this request, or None when the resource has no identity."""
    if requested is None:
        # A write without an identity leaves the identity as it is.
        return old
    if not isinstance(requested, dict):
        raise ArmError(400, "InvalidParameter", "The value of parameter identity is invalid.", target="identity")
    kind = requested.get("type")
    if kind is None:
        kind = (old or {}).get("type", "None") if patch else "None"
    canonical = next((t for t in IDENTITY_TYPES if t.lower() == str(kind).replace(" ", "").replace(",", ", ").lower()),
                     None)
    if canonical is None:
        raise ArmError(400, "InvalidParameter",
                       f"The value '{kind}' of parameter 'identity.type' is invalid. Allowed values are "
                       f"'{', '.join(IDENTITY_TYPES)}'.", target="identity.type")
    wants_system = canonical.startswith("SystemAssigned")
    wants_user = "UserAssigned" in canonical
    requested_uamis = requested.get("userAssignedIdentities") or {}
    if not isinstance(requested_uamis, dict):
        raise ArmError(400, "InvalidParameter", "The value of parameter identity.userAssignedIdentities is invalid.",
                       target="identity.userAssignedIdentities")

    current = {k.lower(): (k, v) for k, v in ((old or {}).get("userAssignedIdentities") or {}).items()}
    if not wants_user:
        if any(v is not None for v in requested_uamis.values()):
            raise errors.identity_operation_failed(
                resource["id"], "The request format was unexpected, a non-UserAssigned identity type should not "
                                "contain: userAssignedIdentities")
        uamis: dict[str, tuple[str, Any]] = {}
    else:
        uamis = dict(current) if patch else {}
        for key, value in requested_uamis.items():
            if value is None:
                uamis.pop(key.lower(), None)
            elif key.lower() not in uamis:
                uamis[key.lower()] = (key, value)
        if not uamis:
            raise ArmError(400, "MissingIdentityIds",
                           "The identity ids must not be null or empty for 'UserAssigned' identity type.")

    added = [key for key in uamis if key not in current]
    _check_linked_authorization(ctx, resource, [uamis[k][0] for k in added])
    # Every listed identity must exist, also one assigned earlier and deleted since (Azure/aad-pod-identity#339).
    missing = [uamis[k][0] for k in uamis if ctx.world.get(uamis[k][0]) is None]
    if missing:
        raise errors.identity_operation_failed(resource["id"], f"Resource '{missing[0]}' was not found.")

    block: dict[str, Any] = {"type": canonical}
    old_principal = (old or {}).get("principalId")
    if wants_system:
        principal_id = old_principal
        if not principal_id or ctx.world.principal(principal_id) is None:
            principal = ctx.world.add_principal(kind="managed_identity", display_name=resource["name"],
                                                mi_resource_id=resource["id"])
            principal_id = principal.object_id
        block["principalId"] = principal_id
        block["tenantId"] = ctx.world.tenant_id
    elif old_principal:
        ctx.world.remove_principal(old_principal)
    if wants_user:
        block["userAssignedIdentities"] = {}
        for given, _ in uamis.values():
            uami = ctx.world.get(given)
            props = uami.get("properties") or {}
            block["userAssignedIdentities"][uami["id"]] = {"principalId": props.get("principalId"),
                                                           "clientId": props.get("clientId")}
    if canonical == "None":
        return None
    return block


def _check_linked_authorization(ctx: Ctx, resource: dict, uami_ids: list[str]) -> None:
    denied = [u for u in uami_ids if not ctx.allowed(ASSIGN_ACTION, u)]
    if denied:
        assert ctx.caller is not None
        raise errors.linked_authorization_failed(ctx.caller.client_id, ctx.caller.object_id,
                                                 f"{resource['type']}/write", resource["id"], ASSIGN_ACTION, denied)
