# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Effective permissions of the host's own identity at a scope, from the host itself. Standard library only.

ARM answers ``GET {scope}/providers/Microsoft.Authorization/permissions`` with one entry per permission block of each
role assignment that applies at the scope (``actions``, ``notActions``, ``dataActions``, ``notDataActions``); no role
is needed to ask. This module decides whether declared actions are present and forbidden ones absent, and names the
role assignment that grants an excess (which takes ``roleAssignments/read`` and ``roleDefinitions/read``, part of
Reader's ``*/read``; without them the failure names the permission block only).

Action patterns (Azure RBAC, role-definitions.md "Actions"): case-insensitive, ``*`` matches any characters,
``/`` included. Whether a role "grants" a pattern such as ``*/write`` is a question about sets of actions:
- expected: every action the pattern matches is granted (an ``actions`` entry covers it and no ``notActions`` entry
  overlaps it);
- forbidden: some action the pattern matches is granted (an ``actions`` entry overlaps it, and no ``notActions``
  entry covers the pattern or the granting entry). Where the granted part is exactly carved out by a narrower
  ``notActions`` entry this reports an excess: when in doubt, it fails rather than passes.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ConfigurationError,
    PermissionDenied,
)

# The version azure-mgmt-authorization 4.x uses for permissions (its 2022-04-01 profile); no condition fields in it.
PERMISSIONS_API_VERSION = "2022-04-01"


# -- pattern algebra ------------------------------------------------------------------------------------------------
def _variants(pattern: str) -> List[str]:
    """``a/*/b`` also matches ``a/b`` in Azure (the wildcard may stand for no segment at all)."""
    lowered = pattern.strip().lower()
    out = [lowered]
    while "/*/" in out[-1]:
        out.append(out[-1].replace("/*/", "/", 1))
    return out


def _overlap(a: str, b: str) -> bool:
    """Whether some string matches both globs (``*`` matches any characters)."""
    memo: Dict[Tuple[int, int], bool] = {}

    def walk(i: int, j: int) -> bool:
        key = (i, j)
        if key not in memo:
            if i == len(a) and j == len(b):
                found = True
            elif i < len(a) and a[i] == "*":
                found = walk(i + 1, j) or (j < len(b) and walk(i, j + 1))
            elif j < len(b) and b[j] == "*":
                found = walk(i, j + 1) or (i < len(a) and walk(i + 1, j))
            else:
                found = i < len(a) and j < len(b) and a[i] == b[j] and walk(i + 1, j + 1)
            memo[key] = found
        return memo[key]

    return walk(0, 0)


def _covers(outer: str, inner: str) -> bool:
    """Whether every string ``inner`` matches is matched by ``outer``: a ``*`` of ``inner`` may only be matched by a
    ``*`` of ``outer`` (sound, not complete: ``True`` is always right)."""
    memo: Dict[Tuple[int, int], bool] = {}

    def walk(i: int, j: int) -> bool:
        key = (i, j)
        if key not in memo:
            if i == len(outer):
                found = j == len(inner)
            elif outer[i] == "*":
                found = walk(i + 1, j) or (j < len(inner) and walk(i, j + 1))
            else:
                found = j < len(inner) and inner[j] != "*" and outer[i] == inner[j] and walk(i + 1, j + 1)
            memo[key] = found
        return memo[key]

    return walk(0, 0)


def overlaps(granted: str, pattern: str) -> bool:
    return any(_overlap(g, p) for g in _variants(granted) for p in _variants(pattern))


def covers(outer: str, inner: str) -> bool:
    return any(_covers(o, inner.strip().lower()) for o in _variants(outer))


def block_grants_all(block: Mapping[str, Any], pattern: str) -> bool:
    """Every action ``pattern`` matches is granted by this permission block."""
    return any(covers(a, pattern) for a in block.get("actions") or []) and not any(
        overlaps(n, pattern) for n in block.get("notActions") or []
    )


def block_grants_some(block: Mapping[str, Any], pattern: str) -> List[str]:
    """The ``actions`` entries of this block through which some action ``pattern`` matches is granted."""
    not_actions = block.get("notActions") or []
    if any(covers(n, pattern) for n in not_actions):
        return []
    return [
        a for a in block.get("actions") or [] if overlaps(a, pattern) and not any(covers(n, a) for n in not_actions)
    ]


def check_patterns(option: str, patterns: Optional[Sequence[str]]) -> List[str]:
    cleaned = []
    for pattern in patterns or []:
        if not isinstance(pattern, str) or not pattern.strip() or any(c.isspace() for c in pattern.strip()):
            raise ConfigurationError(
                "%s: %r is not an action pattern. Give Azure RBAC actions such as "
                "Microsoft.Resources/subscriptions/resourceGroups/read, */write or Microsoft.Authorization/*/write."
                % (option, pattern)
            )
        cleaned.append(pattern.strip())
    return cleaned


def missing(permissions: Iterable[Mapping[str, Any]], expected: Sequence[str]) -> List[str]:
    blocks = list(permissions)
    return [p for p in expected if not any(block_grants_all(b, p) for b in blocks)]


def excess(permissions: Iterable[Mapping[str, Any]], forbidden: Sequence[str]) -> List[Dict[str, Any]]:
    """One entry per forbidden pattern that some block grants: the pattern and the granting blocks' entries."""
    blocks = list(permissions)
    found = []
    for pattern in forbidden:
        granting = [(b, block_grants_some(b, pattern)) for b in blocks]
        granting = [(b, via) for b, via in granting if via]
        if granting:
            found.append(
                {
                    "action": pattern,
                    "blocks": [{"actions": via, "notActions": b.get("notActions") or []} for b, via in granting],
                }
            )
    return found


# -- who grants it --------------------------------------------------------------------------------------------------
def _scope_key(scope: str) -> str:
    return scope.rstrip("/").lower() or "/"


def applies_at(assignment_scope: str, scope: str) -> bool:
    """An assignment at ``assignment_scope`` applies at ``scope`` when it is the scope or above it (management
    groups and the root apply to everything in the tenant; the list ARM returns holds only those above)."""
    outer, inner = _scope_key(assignment_scope), _scope_key(scope)
    return (
        outer == "/"
        or "/providers/microsoft.management/managementgroups/" in outer
        or (inner == outer or inner.startswith(outer + "/"))
    )


def attribute(
    found: List[Dict[str, Any]], assignments: Sequence[Mapping[str, Any]], definitions: Mapping[str, Mapping[str, Any]]
) -> None:
    """Add ``granted_by`` (role name, role definition ID, assignment ID and scope) to each excess entry."""
    for entry in found:
        entry["granted_by"] = []
        for assignment in assignments:
            props = assignment.get("properties") or {}
            definition = definitions.get((props.get("roleDefinitionId") or "").lower()) or {}
            blocks = (definition.get("properties") or {}).get("permissions") or []
            if any(block_grants_some(b, entry["action"]) for b in blocks):
                entry["granted_by"].append(
                    {
                        "role_name": (definition.get("properties") or {}).get("roleName"),
                        "role_definition_id": props.get("roleDefinitionId"),
                        "assignment_id": assignment.get("id"),
                        "scope": props.get("scope"),
                    }
                )


def describe_excess(found: Sequence[Mapping[str, Any]], principal: str, scope: str, note: str = "") -> str:
    """The failure message: each excess permission and the assignment (or permission block) that grants it."""
    parts = []
    for entry in found:
        grants = entry.get("granted_by") or []
        if grants:
            via = "; ".join(
                "role %r (assignment %s at %s)" % (g["role_name"], g["assignment_id"], g["scope"]) for g in grants
            )
        else:
            via = "permission blocks %s" % ", ".join(
                "actions %s minus notActions %s" % (b["actions"], b["notActions"]) for b in entry["blocks"]
            )
        parts.append("%s is granted by %s" % (entry["action"], via))
    message = "principal %s has permissions beyond what was meant at %s: %s." % (principal, scope, " | ".join(parts))
    if note:
        message += " " + note
    return message + (
        " Remove those assignments at the scope they are made at (managed_identity.azure.role_assignment_set makes a "
        "principal's roles at a scope exactly the declared ones)."
    )


# -- ARM calls with the host's token --------------------------------------------------------------------------------
def host_client(
    cloud: Cloud, access_token: str, *, ca_path: Optional[str] = None, timeout: float = 30, max_wait: float = 80
) -> Any:
    """The ARM client (retries, paging, ARM's error bodies; the token goes to the ARM endpoint only) with the host's
    own token. Imported here, not at the top: access_check runs on every VM at every validation, and only this check
    needs the client."""
    from ansible_collections.managed_identity.azure.plugins.module_utils import _arm
    from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_token import (
        StaticTokenCredential,
    )

    return _arm.ArmClient(
        cloud, StaticTokenCredential(access_token), ca_path=ca_path, timeout=timeout, max_wait=max_wait
    )


def check(arm: Any, scope: str, principal_id: str, expected: Sequence[str], forbidden: Sequence[str]) -> Dict[str, Any]:
    """``{"permissions", "missing_actions", "excess_permissions", "note"}`` for the host's identity at ``scope``."""
    permissions = arm.list(scope + "/providers/Microsoft.Authorization/permissions", PERMISSIONS_API_VERSION)
    result: Dict[str, Any] = {
        "permissions": permissions,
        "missing_actions": missing(permissions, expected),
        "excess_permissions": excess(permissions, forbidden),
        "note": "",
    }
    if result["excess_permissions"]:
        try:
            assignments = [
                a
                for a in arm.list(
                    scope + "/providers/Microsoft.Authorization/roleAssignments",
                    PERMISSIONS_API_VERSION,
                    query={"$filter": "assignedTo('%s')" % principal_id},
                )
                if applies_at((a.get("properties") or {}).get("scope") or "", scope)
            ]
            definitions = {}
            for role_id in {(a.get("properties") or {}).get("roleDefinitionId") or "" for a in assignments}:
                definitions[role_id.lower()] = arm.get(role_id, PERMISSIONS_API_VERSION)
            attribute(result["excess_permissions"], assignments, definitions)
        except PermissionDenied:
            result["note"] = (
                "The identity may not read its role assignments or role definitions here "
                "(Microsoft.Authorization/roleAssignments/read, roleDefinitions/read), so the granting assignments "
                "cannot be named; list them with managed_identity.azure.role_assignment_info."
            )
    return result
