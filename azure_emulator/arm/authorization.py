"""Role definitions, role assignments and permissions (Microsoft.Authorization).

Sources: azure-docs role-based-access-control/{role-assignments-rest,role-assignments-list-rest,
role-definitions-list,troubleshooting}.md and the 2022-04-01 spec examples (REFERENCE.md section 6).
- Listing without a filter returns assignments at the scope, above it and below it; ``atScope()`` returns the ones
  at the scope and above (not below: azure-cli filters the inherited ones out itself for ``--include-inherited``);
  ``assignedTo('id')`` and ``principalId eq 'id'`` keep one principal.
- PrincipalNotFound is a 400 (Azure/azure-sdk-for-net#1652 trace) and names the principal without dashes, as real
  responses do (Azure/avdaccelerator#76); it fires when the principal is unknown, or younger than the replication
  delay, and ``principalType`` was not given (with it, ARM skips the directory lookup).
- An assignment cannot change: the same name (unique in the tenant, whatever the scope) with another principal, role
  or scope is 400 RoleAssignmentUpdateNotPermitted [doc] (troubleshooting.md; [observed] on a redeploy with the same
  name at another scope, jetbrains/teamcity-azure-template#10); the same principal, role and scope under another
  name is 409 RoleAssignmentExists. ``principalType``, ``description`` and ``condition`` may change (the message names
  what may not).
- A principalType that differs from the directory's is 400 UnmatchedPrincipalType, with Azure's text (its
  "PrinciaplType" typo and the space before the comma included) [observed] (Azure-Samples template-doctor captures).
- A role is assignable only at or below one of its ``assignableScopes`` (400
  RoleAssignmentScopeNotAssignableToRoleDefinition [observed], role-definitions.md "AssignableScopes"); the role
  definition list at a scope has the roles assignable there, and with ``atScopeAndBelow()`` also those assignable
  only below it [doc] (RoleDefinitions_List: "applicable at scope and above ... Use atScopeAndBelow filter to search
  below the given scope as well").
- Conditions [doc] (conditions-role-assignments-portal.md, delegate-role-assignments-overview.md,
  conditions-troubleshoot.md): only on roles with blob or queue storage data actions, or that can write role
  assignments (constrained delegation); ``conditionVersion`` defaults to "2.0", the only accepted one; otherwise 400
  "The given role assignment condition is invalid.". Delegation conditions are evaluated on role assignment writes
  and deletes (../conditions.py); storage ones never apply here (no data plane).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .. import conditions
from .. import resources as arm_json
from ..rbac import ancestors, normalize_scope, role_grants, role_guid
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
    at_and_below = False
    if text:
        by_name, by_type = _ROLE_NAME.fullmatch(text), _ROLE_TYPE.fullmatch(text)
        if by_name:
            definitions = [d for d in definitions
                           if d["properties"]["roleName"].lower() == by_name["name"].lower()]
        elif by_type:
            definitions = [d for d in definitions if d["properties"]["type"].lower() == by_type["type"].lower()]
        elif text.strip().lower() == "atscopeandbelow()":
            at_and_below = True
        else:
            raise ArmError(400, "InvalidFilterParameter", f"The filter '{text}' is not supported.")
    definitions = [d for d in definitions if _assignable(ctx, d, scope, or_below=at_and_below)]
    definitions.sort(key=lambda d: d["properties"]["roleName"].lower())
    return respond(200, ctx.page([_render_definition(d, scope) for d in definitions]))


def _assignable(ctx: Ctx, definition: dict, scope: str, *, or_below: bool = False) -> bool:
    """Whether one of the role's assignableScopes is at or above ``scope`` (or, ``or_below``, under it)."""
    here = scope or "/"
    scopes = definition["properties"].get("assignableScopes") or ["/"]
    return any(ctx.rbac.covers(s, here) or (or_below and ctx.rbac.covers(here, s)) for s in scopes)


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
    inherited = set(ancestors(ctx.world, here))
    found = []
    for assignment in ctx.world.role_assignments.values():
        props = assignment["properties"]
        if principal_id is not None and props["principalId"].lower() != principal_id.lower():
            continue
        # Management groups included: their assignments are listed as inherited, as Azure lists them.
        above = normalize_scope(props["scope"]) in inherited
        below = not above and here in ancestors(ctx.world, props["scope"])
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
        # Delegation conditions see the assignment being deleted (conditions-authorization-actions-attributes.md).
        seen = conditions.role_assignment_attributes("resource", existing["properties"]) if existing else None
        ctx.require(RA_DELETE, scope or "/", seen)
        if existing is None:
            return respond(204)
        ctx.world.remove_role_assignment(existing["id"])
        ctx.world.commit()
        ctx.rbac.invalidate()
        return respond(200, existing)
    body = await ctx.json()
    props = body.get("properties") or {}
    # Delegation conditions see the role, principal and principal type of the request.
    ctx.require(RA_WRITE, scope or "/", conditions.role_assignment_attributes("request", props))
    return _create_assignment(ctx, scope, name, existing, props)


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
    # Names are unique in the tenant: a name in use at another scope names that assignment, whose scope is fixed.
    same_name = existing or next((a for a in ctx.world.role_assignments.values()
                                  if a["name"].lower() == name.lower()), None)
    if same_name is not None:
        old = same_name["properties"]
        if (old["principalId"].lower() != principal_id.lower() or role_guid(old["roleDefinitionId"]) != guid
                or normalize_scope(old["scope"]) != here):
            raise ArmError(400, "RoleAssignmentUpdateNotPermitted",
                           "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
    if not _assignable(ctx, definition, scope):
        raise ArmError(400, "RoleAssignmentScopeNotAssignableToRoleDefinition",
                       f"The role '{definition['properties']['roleName']}' with id '{guid}' is not available for "
                       f"assignment at the requested scope '{scope or '/'}'. Its assignable scopes are "
                       f"{', '.join(definition['properties'].get('assignableScopes') or ['/'])}.")
    condition = _check_condition(definition, props)
    principal = ctx.world.principal(principal_id)
    _check_principal_type(principal, principal_id, principal_type)
    if existing is not None:
        return _update_assignment(ctx, existing, props, condition)
    for other in ctx.world.role_assignments.values():
        props_other = other["properties"]
        if (props_other["principalId"].lower() == principal_id.lower()
                and role_guid(props_other["roleDefinitionId"]) == guid
                and normalize_scope(props_other["scope"]) == here):
            raise ArmError(409, "RoleAssignmentExists",
                           f"The role assignment already exists. The ID of the existing role assignment is "
                           f"{_dashless(other['name'])}.")
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
    assert ctx.caller is not None
    created = arm_json.role_assignment(scope or "/", name, guid, principal_id, ctx.world.now(),
                                       principal_type=principal_type, description=props.get("description"))
    created["properties"]["createdBy"] = ctx.caller.object_id
    created["properties"]["updatedBy"] = ctx.caller.object_id
    created["properties"]["createdOn"] = created["properties"]["updatedOn"] = common.iso_z(ctx.world.now())
    if condition:
        created["properties"]["condition"] = condition
        created["properties"]["conditionVersion"] = "2.0"
    ctx.world.add_role_assignment(created)
    ctx.world.commit()
    ctx.rbac.invalidate()
    return respond(201, created)


def _check_principal_type(principal: Any, principal_id: str, principal_type: str | None) -> None:
    """Every principal of the emulated directory is a service principal (applications and managed identities)."""
    if principal is not None and principal_type is not None and principal_type != "ServicePrincipal":
        raise ArmError(400, "UnmatchedPrincipalType",
                       f"The PrincipalId '{_dashless(principal_id)}' has type 'ServicePrincipal' , which is different "
                       f"from specified PrinciaplType '{principal_type}'.")


_CONDITION_DATA_ACTIONS = ("microsoft.storage/storageaccounts/blobservices/",
                           "microsoft.storage/storageaccounts/queueservices/")


def _check_condition(definition: dict, props: dict) -> str | None:
    """The condition to store, or None; 400 for a version other than 2.0, a role that cannot carry one, or text
    that is not a condition expression (conditions-format.md)."""
    condition = props.get("condition") or None
    if condition is None:
        return None
    version = props.get("conditionVersion") or "2.0"
    data_actions = [a.lower() for p in definition["properties"].get("permissions", [])
                    for a in p.get("dataActions", [])]
    storage = any(a.startswith(_CONDITION_DATA_ACTIONS) or a in ("*", "microsoft.storage/*") for a in data_actions)
    delegation = role_grants(definition, RA_WRITE)
    try:
        conditions.parse(condition)
    except conditions.ConditionError:
        version = ""
    if version != "2.0" or not (storage or delegation):
        raise ArmError(400, "InvalidRoleAssignmentCondition", "The given role assignment condition is invalid.")
    return condition


def _update_assignment(ctx: Ctx, existing: dict, props: dict, condition: str | None) -> web.Response:
    """Same name, principal, role and scope: principalType, description and condition may change (200 with the
    new body)."""
    current = existing["properties"]
    wanted = {"description": props.get("description"), "condition": condition,
              "conditionVersion": "2.0" if condition else None,
              "principalType": props.get("principalType") or current.get("principalType")}
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
