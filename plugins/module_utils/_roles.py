# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure RBAC: scopes, role definitions and role assignments, as plain functions.

Pure helpers (scope validation, deterministic names, matching) are separate from the few
functions that talk to ARM, so the decisions can be unit tested without HTTP.
"""

from __future__ import annotations

import difflib
import re
import uuid
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    AzureError,
    ConfigurationError,
    NotFoundError,
    PermissionDenied,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._resource_ids import resource_group_id
from ansible_collections.managed_identity.azure.plugins.module_utils._retry import RetryPolicy

AUTHORIZATION_API_VERSION = "2022-04-01"  # the first version that returns `condition` on assignments

# Namespace of the deterministic role assignment names (UUID v5). Chosen once at random for this
# collection; never change it, or runs of two versions at the same time could create duplicates.
ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("bdfdec7b-100c-45ff-989a-213d051e2523")

PRINCIPAL_TYPES = ("ServicePrincipal", "User", "Group", "ForeignGroup", "Device")

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_NAME_SEGMENT = re.compile(r"^[^/?#\s][^/?#]*$")
_ROLE_DEFINITION_ID = re.compile(
    r"^(?P<scope>(/[^/]+)*)/providers/Microsoft\.Authorization/roleDefinitions/(?P<guid>[^/]+)$", re.IGNORECASE
)

ROLE_DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions"
ROLE_ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments"


def is_guid(value: Any) -> bool:
    return isinstance(value, str) and bool(_GUID.match(value))


def check_principal_id(principal_id: str, option: str = "principal_id") -> str:
    """The principal (object) ID, lower-cased; a ConfigurationError names the option otherwise."""
    if not is_guid(principal_id):
        raise ConfigurationError(
            "%s: %r is not a GUID. Pass the object (principal) ID of the user, group or service principal, "
            "for a managed identity the principal_id returned by vm_identity or user_assigned_identity "
            "(not its client ID, name or resource ID)." % (option, principal_id)
        )
    return principal_id.lower()


def normalize_scope(scope: str, option: str = "scope") -> str:
    """Validate an ARM scope and return it in the given casing, without a trailing slash (``/`` stays ``/``).

    Accepted: ``/``, a management group, a subscription, a resource group, or any resource below them.
    """
    fix = (
        "Use an ARM scope such as /subscriptions/<subscription GUID>, "
        "/subscriptions/<subscription GUID>/resourceGroups/<name>, a full resource ID, "
        "or /providers/Microsoft.Management/managementGroups/<name>."
    )
    if not isinstance(scope, str) or not scope.startswith("/"):
        raise ConfigurationError("%s: %r is not an ARM scope (it must start with '/'). %s" % (option, scope, fix))
    if scope == "/":
        return scope
    trimmed = scope[:-1] if scope.endswith("/") else scope
    segments = trimmed.split("/")[1:]
    if not all(_NAME_SEGMENT.match(s) for s in segments):
        raise ConfigurationError(
            "%s: %r is not an ARM scope (empty segment, whitespace at a segment start, '?' or '#'). %s"
            % (option, scope, fix)
        )
    lowered = [s.lower() for s in segments]
    if lowered[0] == "subscriptions":
        if len(segments) < 2 or not is_guid(segments[1]):
            raise ConfigurationError(
                "%s: %r is not an ARM scope: a subscription ID must be a GUID. %s" % (option, scope, fix)
            )
        rest = lowered[2:]
        if rest and rest[0] == "resourcegroups":
            if len(rest) < 2:
                raise ConfigurationError("%s: %r names no resource group. %s" % (option, scope, fix))
            rest = rest[2:]
    elif lowered[:3] == ["providers", "microsoft.management", "managementgroups"]:
        if len(lowered) != 4:
            raise ConfigurationError("%s: %r is not a management group scope. %s" % (option, scope, fix))
        rest = []
    else:
        raise ConfigurationError("%s: %r is not an ARM scope. %s" % (option, scope, fix))
    if rest:
        # /providers/<namespace>/<type>/<name>[/<type>/<name>...]
        if rest[0] != "providers" or len(rest) < 4 or (len(rest) - 2) % 2:
            raise ConfigurationError(
                "%s: %r is not a resource ID (expected .../providers/<namespace>/<type>/<name>). %s"
                % (option, scope, fix)
            )
        if "microsoft.authorization" in rest:
            raise ConfigurationError(
                "%s: %r points into Microsoft.Authorization; a role assignment scope is the resource the access "
                "is for. %s" % (option, scope, fix)
            )
    return trimmed


def scope_key(scope: str) -> str:
    """Comparison form of a scope: ARM IDs are case-insensitive."""
    return "/" if scope == "/" else scope.rstrip("/").lower()


def subscription_scope(subscription_id: str, resource_group: Optional[str] = None) -> str:
    if not is_guid(subscription_id):
        raise ConfigurationError(
            "subscription_id: %r is not a GUID. Pass the subscription ID (not its display name)." % (subscription_id,)
        )
    if resource_group:
        return normalize_scope(resource_group_id(subscription_id, resource_group), "resource_group")
    return normalize_scope("/subscriptions/%s" % subscription_id, "subscription_id")


def under(scope: str, suffix: str) -> str:
    """Path of an extension resource (``suffix`` starts with ``/providers/``) at ``scope``."""
    return ("" if scope == "/" else scope) + suffix


def assignment_name(scope: str, role_definition_guid: str, principal_id: str) -> str:
    """Deterministic assignment name: concurrent runs for the same grant PUT the same name, so ARM keeps one."""
    key = "%s|%s|%s" % (scope_key(scope), role_definition_guid.lower(), principal_id.lower())
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))


def role_definition_guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def parse_role(role: str) -> Tuple[str, str]:
    """``("id", full_id)``, ``("guid", guid)`` or ``("name", role_name)``."""
    if not isinstance(role, str) or not role.strip():
        raise ConfigurationError(
            "role: %r is empty. Pass a role name such as Reader, a role definition GUID, or a full role "
            "definition ID." % (role,)
        )
    if is_guid(role):
        return "guid", role.lower()
    if role.startswith("/"):
        match = _ROLE_DEFINITION_ID.match(role.rstrip("/"))
        if not match or not is_guid(match.group("guid")):
            raise ConfigurationError(
                "role: %r is not a role definition ID (expected "
                "[/subscriptions/<GUID>]/providers/Microsoft.Authorization/roleDefinitions/<GUID>). Pass that, "
                "a role definition GUID, or a role name such as Reader." % (role,)
            )
        return "id", role.rstrip("/")
    return "name", role


def match_role_names(definitions: Iterable[Dict[str, Any]], role_name: str) -> List[Dict[str, Any]]:
    """Definitions whose roleName equals ``role_name`` ignoring case (Azure's role names are case-insensitive)."""
    wanted = role_name.strip().lower()
    return [d for d in definitions if (d.get("properties") or {}).get("roleName", "").lower() == wanted]


def similar_role_names(definitions: Iterable[Dict[str, Any]], role_name: str, limit: int = 5) -> List[str]:
    names = sorted({(d.get("properties") or {}).get("roleName", "") for d in definitions} - {""})
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(role_name.lower(), list(by_lower), n=limit, cutoff=0.6)
    contains = [n for n in names if role_name.lower() in n.lower() and n.lower() not in close]
    return [by_lower[c] for c in close] + contains[: max(0, limit - len(close))]


def resolve_role_definition(client: Any, scope: str, role: str) -> Dict[str, Any]:
    """The role definition ``role`` names, as ARM returns it at ``scope``; ConfigurationError when none or many."""
    kind, value = parse_role(role)
    if kind in ("guid", "id"):
        path = value if kind == "id" else under(scope, "%s/%s" % (ROLE_DEFINITIONS, value))
        try:
            return client.get(path, AUTHORIZATION_API_VERSION)
        except NotFoundError as err:
            raise ConfigurationError(
                "role: no role definition %r exists (%s). Check the GUID or ID, or pass the role name." % (role, err)
            ) from err
    matches = match_role_names(list_role_definitions(client, scope, value), value)
    if not matches:
        # The server-side filter may be case-sensitive; one unfiltered read finds other casings and suggestions.
        definitions = list_role_definitions(client, scope)
        matches = match_role_names(definitions, value)
        if not matches:
            similar = similar_role_names(definitions, value)
            raise ConfigurationError(
                "role: no role definition named %r is available at scope %s. %s Use the exact role name, "
                "a role definition GUID, or a full role definition ID."
                % (value, scope, "Similar names: %s." % ", ".join(similar) if similar else "No similar names.")
            )
    if len(matches) > 1:
        raise ConfigurationError(
            "role: %r matches %d role definitions at scope %s: %s. Pass the GUID or full ID of the one you mean."
            % (
                value,
                len(matches),
                scope,
                "; ".join("%s (%s)" % (d["properties"].get("roleName"), d.get("id")) for d in matches),
            )
        )
    return matches[0]


def list_role_definitions(client: Any, scope: str, role_name: Optional[str] = None) -> List[Dict[str, Any]]:
    query = {"$filter": "roleName eq '%s'" % _odata(role_name)} if role_name else None
    return client.list(under(scope, ROLE_DEFINITIONS), AUTHORIZATION_API_VERSION, query=query)


def list_assignments(client: Any, scope: str, principal_id: Optional[str] = None) -> List[Dict[str, Any]]:
    """Assignments visible at ``scope`` (ARM includes parent and child scopes), optionally for one principal."""
    query = {"$filter": "principalId eq '%s'" % principal_id} if principal_id else None
    return client.list(under(scope, ROLE_ASSIGNMENTS), AUTHORIZATION_API_VERSION, query=query)


def assignment_matches(
    assignment: Dict[str, Any],
    *,
    scope: Optional[str] = None,
    role_guid: Optional[str] = None,
    principal_id: Optional[str] = None,
) -> bool:
    """Compare on normalised IDs, ignoring case: a scope typed with other casing is the same scope."""
    props = assignment.get("properties") or {}
    if scope is not None and scope_key(props.get("scope") or "") != scope_key(scope):
        return False
    if role_guid is not None and role_definition_guid(props.get("roleDefinitionId") or "") != role_guid.lower():
        return False
    if principal_id is not None and (props.get("principalId") or "").lower() != principal_id.lower():
        return False
    return True


def find_assignment(
    assignments: Iterable[Dict[str, Any]], scope: str, role_guid: str, principal_id: str
) -> Optional[Dict[str, Any]]:
    for assignment in assignments:
        if assignment_matches(assignment, scope=scope, role_guid=role_guid, principal_id=principal_id):
            return assignment
    return None


def put_assignment(
    client: Any,
    scope: str,
    name: str,
    properties: Dict[str, Any],
    *,
    principal_wait: float,
    policy_factory: Callable[..., RetryPolicy] = RetryPolicy,
) -> Tuple[int, Dict[str, Any]]:
    """PUT the assignment; retry ``PrincipalNotFound`` for up to ``principal_wait`` seconds. Returns (status, body).

    A principal created moments ago may not have replicated to every Entra ID instance yet; ARM
    then answers PrincipalNotFound (https://learn.microsoft.com/azure/role-based-access-control/troubleshooting).
    """
    path = under(scope, "%s/%s" % (ROLE_ASSIGNMENTS, name))
    # Some clients observed 404 for PrincipalNotFound; the code decides, the statuses only gate the policy.
    policy = policy_factory(principal_wait, (400, 404), base=2.0, cap=20.0)
    while True:
        try:
            response = client.request(
                "PUT",
                path,
                api_version=AUTHORIZATION_API_VERSION,
                body={"properties": properties},
                expected_status=(200, 201),
            )
            return response.status_code, response.body
        except ArmError as err:
            if err.code != "PrincipalNotFound":
                raise
            if policy.wait_before_retry(err.status):
                continue
            raise ArmError(
                "principal_id: %s was still not found in the directory after waiting %.0f s (principal_wait). "
                "A principal created moments ago can take minutes to replicate in Microsoft Entra ID. Set "
                "principal_type (ServicePrincipal for managed identities) so Azure does not look it up, or raise "
                "principal_wait; if it persists, check that this is the principal (object) ID, not a client ID. "
                "Azure said: %s" % (properties.get("principalId"), policy.waited, err.message),
                status=err.status,
                code=err.code,
                request_id=err.request_id,
                correlation_id=err.correlation_id,
            ) from err


def delete_assignment(client: Any, assignment_id: str) -> None:
    # 204 means it was already gone: the outcome we want.
    client.request("DELETE", assignment_id, api_version=AUTHORIZATION_API_VERSION, expected_status=(200, 204))


def assignment_properties(
    role_definition_id: str,
    principal_id: str,
    principal_type: Optional[str],
    description: Optional[str],
    condition: Optional[str],
) -> Dict[str, Any]:
    props: Dict[str, Any] = {"roleDefinitionId": role_definition_id, "principalId": principal_id}
    if principal_type:
        props["principalType"] = principal_type
    if description is not None:
        props["description"] = description
    if condition is not None:
        props["condition"] = condition
        props["conditionVersion"] = "2.0"  # the only version ARM accepts for new conditions
    return props


def assignment_updates(
    assignment: Dict[str, Any], description: Optional[str], condition: Optional[str]
) -> Dict[str, Any]:
    """Properties that differ from what was asked (description and condition are the only mutable ones)."""
    props = assignment.get("properties") or {}
    changes: Dict[str, Any] = {}
    if description is not None and (props.get("description") or "") != description:
        changes["description"] = description
    if condition is not None and (props.get("condition") or "") != condition:
        changes["condition"] = condition
        changes["conditionVersion"] = "2.0"
    return changes


def assignment_facts(assignment: Dict[str, Any], role_name: Optional[str] = None) -> Dict[str, Any]:
    props = assignment.get("properties") or {}
    return {
        "id": assignment.get("id"),
        "name": assignment.get("name"),
        "scope": props.get("scope"),
        "role_definition_id": props.get("roleDefinitionId"),
        "role_name": role_name,
        "principal_id": props.get("principalId"),
        "principal_type": props.get("principalType"),
        "description": props.get("description"),
        "condition": props.get("condition"),
    }


def definition_facts(definition: Dict[str, Any]) -> Dict[str, Any]:
    props = definition.get("properties") or {}
    return {
        "id": definition.get("id"),
        "name": definition.get("name"),
        "role_name": props.get("roleName"),
        "role_type": props.get("type"),
        "description": props.get("description"),
        "assignable_scopes": props.get("assignableScopes") or [],
        "permissions": [
            {
                "actions": p.get("actions") or [],
                "not_actions": p.get("notActions") or [],
                "data_actions": p.get("dataActions") or [],
                "not_data_actions": p.get("notDataActions") or [],
            }
            for p in props.get("permissions") or []
        ],
    }


def _odata(value: str) -> str:
    """Quote a string literal for an OData $filter."""
    return value.replace("'", "''")


def scope_from_options(scope: Optional[str], subscription_id: Optional[str], resource_group: Optional[str]) -> str:
    """``scope`` wins (``subscription_id`` may come from module_defaults); else the subscription or its group."""
    if scope:
        return normalize_scope(scope)
    if not subscription_id:
        raise ConfigurationError(
            "scope: no scope given. Set scope to an ARM scope, or subscription_id (or AZURE_SUBSCRIPTION_ID) with "
            "an optional resource_group."
        )
    return subscription_scope(subscription_id, resource_group)


def explain_denied(err: AzureError, permission: str) -> AzureError:
    """Add the fix to Azure's 403 text (which is kept as is)."""
    if isinstance(err, PermissionDenied):
        err.message = "%s Fix: give the operator identity (auth options) %s on the scope." % (
            err.message.rstrip(),
            permission,
        )
    return err
