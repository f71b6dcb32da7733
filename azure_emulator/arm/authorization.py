"""Role definitions, role assignments and permissions (Microsoft.Authorization).

Sources: azure-docs role-based-access-control/{role-assignments-rest,role-assignments-list-rest,
role-definitions-list,troubleshooting}.md and the 2022-04-01 spec examples (REFERENCE.md section 6).
- Listing without a filter returns assignments at the scope, above it and below it; ``atScope()`` returns the ones
  at the scope and above (not below: azure-cli filters the inherited ones out itself for ``--include-inherited``);
  ``assignedTo('id')`` and ``principalId eq 'id'`` keep one principal.
- PrincipalNotFound is a 400 (Azure/azure-sdk-for-net#1652 trace) and names the principal without dashes, as real
  responses do (Azure/avdaccelerator#76); it fires when the principal is unknown, or younger than the replication
  delay, and ``principalType`` was not given (with it, ARM skips the directory lookup).
- An assignment cannot change: same name with another principal, role or scope is RoleAssignmentUpdateNotPermitted;
  the same principal, role and scope under another name is 409 RoleAssignmentExists.
"""

from __future__ import annotations

import re

from aiohttp import web

from .. import resources as arm_json
from ..rbac import normalize_scope, role_guid, scope_covers
from . import common
from .app import Ctx, respond
from .errors import ArmError

RA_READ = "Microsoft.Authorization/roleAssignments/read"
RA_WRITE = "Microsoft.Authorization/roleAssignments/write"
RA_DELETE = "Microsoft.Authorization/roleAssignments/delete"
RD_READ = "Microsoft.Authorization/roleDefinitions/read"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")


def _check_scope(ctx: Ctx, scope: str) -> str:
    """Validate the scope's subscription and resource group; return it without a trailing slash."""
    scope = scope.rstrip("/")
    parts = common.parse_scope(scope)
    if parts["subscription"]:
        common.subscription(ctx.world, parts["subscription"])
        if parts["resourceGroup"]:
            common.resource_group(ctx.world, parts["subscription"], parts["resourceGroup"])
    return scope


# -- role definitions -----------------------------------------------------------------------------------------------

def _render_definition(definition: dict, scope: str) -> dict:
    """Built-in roles read at a subscription (or below) carry that subscription in their id (CLI/docs output)."""
    sub = common.parse_scope(scope)["subscription"]
    shown = dict(definition)
    shown["id"] = arm_json.role_definition_id(f"/subscriptions/{sub}" if sub else "/", definition["name"])
    return shown


_ROLE_NAME = re.compile(r"\s*roleName\s+eq\s+'(?P<name>[^']*)'\s*", re.IGNORECASE)
_ROLE_TYPE = re.compile(r"\s*type\s+eq\s+'(?P<type>BuiltInRole|CustomRole)'\s*", re.IGNORECASE)


async def list_definitions(ctx: Ctx) -> web.Response:
    scope = _check_scope(ctx, ctx.params["scope"])
    if scope:
        ctx.require(RD_READ, scope)
    definitions = list(ctx.world.role_definitions.values())
    text = ctx.request.query.get("$filter")
    if text:
        by_name, by_type = _ROLE_NAME.fullmatch(text), _ROLE_TYPE.fullmatch(text)
        if by_name:
            definitions = [d for d in definitions
                           if d["properties"]["roleName"].lower() == by_name["name"].lower()]
        elif by_type:
            definitions = [d for d in definitions if d["properties"]["type"].lower() == by_type["type"].lower()]
        elif text.strip().lower() != "atscopeandbelow()":
            raise ArmError(400, "InvalidFilterParameter", f"The filter '{text}' is not supported.")
    definitions = [d for d in definitions if _assignable_here(d, scope)]
    definitions.sort(key=lambda d: d["properties"]["roleName"].lower())
    return respond(200, ctx.page([_render_definition(d, scope) for d in definitions]))


def _assignable_here(definition: dict, scope: str) -> bool:
    scopes = definition["properties"].get("assignableScopes") or ["/"]
    return any(scope_covers(s, scope or "/") or scope_covers(scope or "/", s) for s in scopes)


async def get_definition(ctx: Ctx) -> web.Response:
    scope = _check_scope(ctx, ctx.params["scope"])
    if scope:
        ctx.require(RD_READ, scope)
    definition = ctx.world.role_definitions.get(ctx.params["name"].lower())
    if definition is None:
        raise ArmError(404, "RoleDefinitionDoesNotExist",
                       f"The specified role definition with ID '{ctx.params['name']}' does not exist.")
    return respond(200, _render_definition(definition, scope))


# -- role assignments -----------------------------------------------------------------------------------------------

def _dashless(guid: str) -> str:
    return guid.replace("-", "").lower()


_FILTERS = (
    (re.compile(r"\s*atScope\(\)\s+and\s+assignedTo\('(?P<id>[^']*)'\)\s*", re.IGNORECASE), True),
    (re.compile(r"\s*assignedTo\('(?P<id>[^']*)'\)\s+and\s+atScope\(\)\s*", re.IGNORECASE), True),
    (re.compile(r"\s*atScope\(\)\s*", re.IGNORECASE), True),
    (re.compile(r"\s*assignedTo\('(?P<id>[^']*)'\)\s*", re.IGNORECASE), False),
    (re.compile(r"\s*principalId\s+eq\s+'(?P<id>[^']*)'\s*", re.IGNORECASE), False),
)


def _parse_filter(text: str | None) -> tuple[bool, str | None]:
    """(at_scope_only, principal_id) from a roleAssignments ``$filter``."""
    if not text:
        return False, None
    for pattern, at_scope in _FILTERS:
        found = pattern.fullmatch(text)
        if found:
            return at_scope, found.groupdict().get("id")
    raise ArmError(400, "InvalidFilterParameter", f"The filter '{text}' is not supported.")


async def list_assignments(ctx: Ctx) -> web.Response:
    scope = _check_scope(ctx, ctx.params["scope"])
    ctx.require(RA_READ, scope or "/")
    at_scope, principal_id = _parse_filter(ctx.request.query.get("$filter"))
    here = normalize_scope(scope)
    found = []
    for assignment in ctx.world.role_assignments.values():
        props = assignment["properties"]
        if principal_id is not None and props["principalId"].lower() != principal_id.lower():
            continue
        above = scope_covers(props["scope"], here)
        below = scope_covers(here, props["scope"])
        if above or (below and not at_scope):
            found.append(assignment)
    found.sort(key=lambda a: (len(a["properties"]["scope"]), a["id"].lower()))
    return respond(200, ctx.page(found))


async def assignment(ctx: Ctx) -> web.Response:
    name = ctx.params["name"]
    if not common.is_guid(name):
        raise ArmError(400, "InvalidRoleAssignmentId",
                       f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.")
    scope = _check_scope(ctx, ctx.params["scope"])
    assignment_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    existing = ctx.world.role_assignments.get(assignment_id.lower())
    if ctx.method == "GET":
        ctx.require(RA_READ, scope or "/")
        if existing is None:
            raise ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")
        return respond(200, existing)
    if ctx.method == "DELETE":
        ctx.require(RA_DELETE, scope or "/")
        if existing is None:
            return respond(204)
        ctx.world.remove_role_assignment(existing["id"])
        ctx.world.commit()
        ctx.rbac.invalidate()
        return respond(200, existing)
    body = await ctx.json()
    ctx.require(RA_WRITE, scope or "/")
    return _create_assignment(ctx, scope, name, existing, body.get("properties") or {})


def _create_assignment(ctx: Ctx, scope: str, name: str, existing: dict | None, props: dict) -> web.Response:
    role_definition_id = props.get("roleDefinitionId") or ""
    principal_id = props.get("principalId") or ""
    principal_type = props.get("principalType")
    if not role_definition_id:
        raise ArmError(400, "InvalidRoleDefinitionId",
                       "The role definition ID '' is not valid. The role definition ID must be a GUID.")
    if not common.is_guid(principal_id):
        raise ArmError(400, "InvalidPrincipalId",
                       f"The Principal ID '{principal_id}' is not valid. Principal ID must be a GUID.")
    guid = role_guid(role_definition_id)
    definition = ctx.world.role_definitions.get(guid)
    if definition is None:
        raise ArmError(400, "RoleDefinitionDoesNotExist",
                       f"The specified role definition with ID '{guid}' does not exist.")
    if principal_type is not None and principal_type not in PRINCIPAL_TYPES:
        raise ArmError(400, "InvalidPrincipalType",
                       f"The principal type '{principal_type}' is not valid. It must be one of "
                       f"'{', '.join(PRINCIPAL_TYPES)}'.")
    here = normalize_scope(scope)
    if existing is not None:
        old = existing["properties"]
        if (old["principalId"].lower() != principal_id.lower() or role_guid(old["roleDefinitionId"]) != guid
                or normalize_scope(old["scope"]) != here):
            raise ArmError(400, "RoleAssignmentUpdateNotPermitted",
                           "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
        return _update_assignment(ctx, existing, props)
    for other in ctx.world.role_assignments.values():
        props_other = other["properties"]
        if (props_other["principalId"].lower() == principal_id.lower()
                and role_guid(props_other["roleDefinitionId"]) == guid
                and normalize_scope(props_other["scope"]) == here):
            raise ArmError(409, "RoleAssignmentExists",
                           f"The role assignment already exists. The ID of the existing role assignment is "
                           f"{_dashless(other['name'])}.")
    principal = ctx.world.principal(principal_id)
    if principal_type is None:
        young = principal is not None and ctx.world.now() - principal.created_at < ctx.world.knobs.replication_delay
        if principal is None or young:
            raise ArmError(400, "PrincipalNotFound",
                           f"Principal {_dashless(principal_id)} does not exist in the directory "
                           f"{ctx.world.tenant_id}. Check that you have the correct principal ID. If you are creating "
                           "this principal and then immediately assigning a role, this error might be related to a "
                           "replication delay. In this case, set the role assignment principalType property to a "
                           "value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype")
        principal_type = "ServicePrincipal"
    elif principal is not None and principal_type != "ServicePrincipal":
        raise ArmError(400, "UnmatchedPrincipalType",
                       f"The PrincipalType in the request '{principal_type}' does not match the type of the principal "
                       f"'{principal_id}' in the directory, 'ServicePrincipal'.")
    assert ctx.caller is not None
    created = arm_json.role_assignment(scope or "/", name, guid, principal_id, ctx.world.now(),
                                       principal_type=principal_type, description=props.get("description"))
    created["properties"]["createdBy"] = ctx.caller.object_id
    created["properties"]["updatedBy"] = ctx.caller.object_id
    created["properties"]["createdOn"] = created["properties"]["updatedOn"] = common.iso_z(ctx.world.now())
    if props.get("condition"):
        created["properties"]["condition"] = props["condition"]
        created["properties"]["conditionVersion"] = props.get("conditionVersion") or "2.0"
    ctx.world.add_role_assignment(created)
    ctx.world.commit()
    ctx.rbac.invalidate()
    return respond(201, created)


def _update_assignment(ctx: Ctx, existing: dict, props: dict) -> web.Response:
    """Same name, principal, role and scope: description and condition may change (200 with the new body)."""
    current = existing["properties"]
    wanted = {"description": props.get("description"), "condition": props.get("condition") or None}
    wanted["conditionVersion"] = (props.get("conditionVersion") or "2.0") if wanted["condition"] else None
    if all(current.get(key) == value for key, value in wanted.items()):
        return respond(200, existing)
    assert ctx.caller is not None
    current.update(wanted)
    current["updatedBy"] = ctx.caller.object_id
    current["updatedOn"] = common.iso_z(ctx.world.now())
    ctx.world.commit()
    return respond(200, existing)


# -- permissions ----------------------------------------------------------------------------------------------------

async def permissions(ctx: Ctx) -> web.Response:
    """The caller's own permissions at a scope: no role is needed to ask (role-definitions-list.md)."""
    scope = _check_scope(ctx, ctx.params["scope"])
    assert ctx.caller is not None
    return respond(200, ctx.page(ctx.rbac.permissions(ctx.caller.object_id, scope or "/")))
