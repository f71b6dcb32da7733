"""User-assigned managed identities and ``identities/default`` (Microsoft.ManagedIdentity).

Bodies follow the msi spec examples IdentityCreate.json / IdentityGet.json / SystemAssignedIdentityGet.json
(2023-01-31): PUT answers 201 on create and 200 on update; ids use lower-case ``resourcegroups`` as the service
returns them. Deleting an identity deletes its service principal but does not touch the resources it was assigned
to: they keep listing it (Azure/aad-pod-identity#339, "Deleting an identity breaks all binding forever") until a
write removes it.
"""

from __future__ import annotations

from aiohttp import web

from .. import resources as arm_json
from . import common, errors
from .app import Ctx, respond
from .errors import ArmError
from .groups import remove_resource_principals

UAMI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


def _location(ctx: Ctx, existing: dict | None) -> str:
    if existing is not None:
        return existing["location"]
    group = ctx.world.get(common.rg_scope(ctx.params["sub"], ctx.params["rg"]))
    return group["location"] if group else "global"


async def list_in_group(ctx: Ctx) -> web.Response:
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    ctx.check_version("userAssignedIdentities", _location(ctx, None))
    ctx.require(f"{UAMI_TYPE}/read", common.rg_scope(sub, ctx.params["rg"]))
    common.resource_group(ctx.world, sub, ctx.params["rg"])
    items = common.resources_of_type(ctx.world, UAMI_TYPE, sub, ctx.params["rg"])
    return respond(200, ctx.page(sorted(items, key=lambda r: r["id"].lower())))


async def list_in_subscription(ctx: Ctx) -> web.Response:
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    ctx.check_version("userAssignedIdentities")
    ctx.require(f"{UAMI_TYPE}/read", f"/subscriptions/{sub}")
    items = common.resources_of_type(ctx.world, UAMI_TYPE, sub)
    return respond(200, ctx.page(sorted(items, key=lambda r: r["id"].lower())))


async def identity(ctx: Ctx) -> web.Response:
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    uami_id = f"/subscriptions/{sub}/resourcegroups/{ctx.params['rg']}/providers/{UAMI_TYPE}/{ctx.params['name']}"
    existing = ctx.world.get(uami_id)
    ctx.check_version("userAssignedIdentities", _location(ctx, existing))
    scope = existing["id"] if existing else uami_id
    ctx.require(f"{UAMI_TYPE}/{common.CRUD_ACTIONS[ctx.method]}", scope)
    group = common.resource_group(ctx.world, sub, ctx.params["rg"])
    if ctx.method == "GET":
        if existing is None:
            raise errors.resource_not_found(UAMI_TYPE, ctx.params["name"], group["name"])
        return respond(200, existing)
    if ctx.method == "DELETE":
        if existing is None:
            return respond(204)
        remove_resource_principals(ctx.world, existing)
        ctx.world.delete(existing["id"])
        ctx.world.commit()
        return respond(200)
    body = await ctx.json()
    if existing is not None:
        if ctx.method == "PUT" or "tags" in body:
            existing["tags"] = body.get("tags") or {}
        ctx.world.put(existing)
        ctx.world.commit()
        return respond(200, existing)
    if ctx.method == "PATCH":
        raise errors.resource_not_found(UAMI_TYPE, ctx.params["name"], group["name"])
    location = body.get("location")
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    name = ctx.params["name"]
    # The principal's xms_mirid uses lower-case 'resourcegroups', as real tokens show.
    mirid = f"/subscriptions/{sub}/resourcegroups/{group['name']}/providers/{UAMI_TYPE}/{name}"
    principal = ctx.world.add_principal(kind="managed_identity", display_name=name, mi_resource_id=mirid)
    created = arm_json.uami(sub, group["name"], name, location.replace(" ", "").lower(), ctx.world.tenant_id,
                            principal.client_id, principal.object_id, body.get("tags"))
    ctx.world.put(created)
    ctx.world.commit()
    return respond(201, created)


async def system_identity(ctx: Ctx) -> web.Response:
    """``GET {scope}/providers/Microsoft.ManagedIdentity/identities/default``: the resource's system identity."""
    scope = ctx.params["scope"]
    parts = common.parse_scope(scope)
    if parts["subscription"]:
        common.subscription(ctx.world, parts["subscription"])
    resource = ctx.world.get(scope)
    ctx.check_version("identities", (resource or {}).get("location", "global"))
    ctx.require("Microsoft.ManagedIdentity/identities/read", scope)
    principal_id = ((resource or {}).get("identity") or {}).get("principalId")
    principal = ctx.world.principal(principal_id) if principal_id else None
    if resource is None or principal is None:
        raise ArmError(404, "NotFound", f"The system assigned identity of resource '{scope}' was not found.")
    tenant = ctx.world.tenant_id
    location = resource.get("location", "global")
    return respond(200, {
        "id": f"{resource['id']}/providers/Microsoft.ManagedIdentity/identities/default",
        "location": location, "name": "default",
        "properties": {
            "clientId": principal.client_id,
            # The MSI data-plane URL resource providers use; nothing in the emulator fetches it.
            "clientSecretUrl": f"https://control-{location}.identity.azure.net{resource['id']}/credentials"
                               f"?tid={tenant}&oid={principal.object_id}&aid={principal.client_id}",
            "principalId": principal.object_id, "tenantId": tenant},
        "type": "Microsoft.ManagedIdentity/Identities"})
