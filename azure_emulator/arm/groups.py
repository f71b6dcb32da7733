"""Subscriptions and resource groups (Microsoft.Resources)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from . import common, errors, versions
from .app import Ctx, respond
from .errors import ArmError

SUB_READ = "Microsoft.Resources/subscriptions/read"
RG_WRITE = "Microsoft.Resources/subscriptions/resourceGroups/write"
RG_DELETE = "Microsoft.Resources/subscriptions/resourceGroups/delete"


def subscription_json(sub: dict) -> dict:
    return {
        "id": f"/subscriptions/{sub['subscriptionId']}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub["subscriptionId"],
        "tenantId": sub["tenantId"],
        "displayName": sub["displayName"],
        "state": sub.get("state", "Enabled"),
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                 "spendingLimit": "Off"},
    }


def _visible(ctx: Ctx, sub_id: str) -> bool:
    """A subscription is visible to callers holding any role at or below it (how ARM filters the list)."""
    assert ctx.caller is not None
    prefix = f"/subscriptions/{sub_id}".lower()
    for assignment in ctx.rbac.effective_assignments(ctx.caller.object_id):
        scope = assignment["properties"]["scope"].lower().rstrip("/") or "/"
        if scope == "/" or scope == prefix or scope.startswith(prefix + "/"):
            return True
    return False


async def list_subscriptions(ctx: Ctx) -> web.Response:
    subs = [subscription_json(s) for s in ctx.world.subscriptions.values() if _visible(ctx, s["subscriptionId"])]
    body = ctx.page(subs)
    body["count"] = {"type": "Total", "value": len(subs)}
    return respond(200, body)


async def get_subscription(ctx: Ctx) -> web.Response:
    sub = ctx.world.subscriptions.get(ctx.params["sub"].lower())
    if sub is None or not _visible(ctx, sub["subscriptionId"]):
        raise errors.subscription_not_found(ctx.params["sub"])
    return respond(200, subscription_json(sub))


async def list_groups(ctx: Ctx) -> web.Response:
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    groups = common.resources_of_type(ctx.world, "Microsoft.Resources/resourceGroups", sub)
    if not ctx.allowed(common.RG_READ, f"/subscriptions/{sub}"):
        # ARM lists the groups the caller can read; with none, the list is a 403 at the subscription.
        groups = [g for g in groups if ctx.allowed(common.RG_READ, g["id"])]
        if not groups:
            ctx.require(common.RG_READ, f"/subscriptions/{sub}")
    return respond(200, ctx.page(sorted(groups, key=lambda g: g["name"].lower())))


async def resource_group(ctx: Ctx) -> web.Response:
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    name = ctx.params["rg"]
    scope = common.rg_scope(sub, name)
    existing = ctx.world.get(scope)
    if existing is not None:
        scope = existing["id"]
    if ctx.method in ("GET", "HEAD"):
        ctx.require(common.RG_READ, scope)
        if existing is None:
            if ctx.method == "HEAD":
                return respond(404)
            raise errors.resource_group_not_found(name)
        return respond(204) if ctx.method == "HEAD" else respond(200, existing)
    if ctx.method == "DELETE":
        ctx.require(RG_DELETE, scope)
        if existing is None:
            raise errors.resource_group_not_found(name)
        _delete_group(ctx, existing)
        # Deleting a group is asynchronous: 202 and a Location to poll (async-operations.md).
        token = uuid.uuid4().hex.upper()
        location = ctx.url(f"/subscriptions/{sub}/operationresults/{token}", **{"api-version": ctx.api_version})
        return respond(202, None, {"Location": location, "Retry-After": str(ctx.world.knobs.retry_after)})
    body = await ctx.json()
    ctx.require(RG_WRITE, scope)
    if ctx.method == "PATCH":
        if existing is None:
            raise errors.resource_group_not_found(name)
        if "tags" in body:
            existing["tags"] = body["tags"] or {}
        ctx.world.put(existing)
        ctx.world.commit()
        return respond(200, existing)
    location = body.get("location")
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    if existing is not None:
        if _norm_location(existing["location"]) != _norm_location(location):
            raise ArmError(409, "InvalidResourceGroupLocation",
                           f"Invalid resource group location '{location}'. The Resource group already exists in "
                           f"location '{existing['location']}'.")
        existing["tags"] = body.get("tags") or {}
        ctx.world.put(existing)
        ctx.world.commit()
        return respond(200, existing)
    group = {"id": common.rg_scope(sub, name), "name": name, "type": "Microsoft.Resources/resourceGroups",
             "location": _norm_location(location), "tags": body.get("tags") or {},
             "properties": {"provisioningState": "Succeeded"}}
    if body.get("managedBy"):
        group["managedBy"] = body["managedBy"]
    ctx.world.put(group)
    ctx.world.commit()
    return respond(201, group)


async def operation_result(ctx: Ctx) -> web.Response:
    common.subscription(ctx.world, ctx.params["sub"])
    versions.check("resourceGroups", ctx.request.query.get("api-version"))
    return respond(200)


def _norm_location(location: str) -> str:
    return location.replace(" ", "").lower()


def _delete_group(ctx: Ctx, group: dict) -> None:
    """Remove the group, everything in it, and the principals of the identities that go with it."""
    prefix = group["id"].lower() + "/"
    for key in [k for k in ctx.world.resources if k.startswith(prefix)]:
        remove_resource_principals(ctx.world, ctx.world.resources[key])
        ctx.world.delete(key)
    ctx.world.delete(group["id"])
    ctx.world.commit()


def remove_resource_principals(world: Any, resource: dict) -> None:
    """A deleted resource takes its system-assigned identity (and a deleted UAMI its principal) with it."""
    identity = resource.get("identity") or {}
    if identity.get("principalId"):
        world.remove_principal(identity["principalId"])
    if resource.get("type", "").lower() == "microsoft.managedidentity/userassignedidentities":
        principal_id = (resource.get("properties") or {}).get("principalId")
        if principal_id:
            world.remove_principal(principal_id)
