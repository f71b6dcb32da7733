"""Azure RBAC evaluation: which principal may perform which action at which scope.

Semantics (azure-docs role-based-access-control/role-definitions.md, overview.md):
- an assignment at scope S applies to S and everything below it (root "/" -> tenant root management group ->
  management groups -> subscription -> resource group -> resource -> child resource); a management group's
  assignments apply to its child groups and subscriptions (management-groups/overview.md, "Azure role-based access
  control"), and listings at a scope show them as inherited;
- a role grants an action when one of its ``actions`` matches and no ``notActions`` of the same permission block
  matches (notActions subtract within the role, they are not a deny across roles);
- action strings compare case-insensitively and ``*`` matches any characters, including ``/``;
  ``Microsoft.ManagedIdentity/userAssignedIdentities/*/read`` also matches ``.../userAssignedIdentities/read``
  (Managed Identity Operator can read the identity, built-in-roles/identity.md);
- an assignment with a condition (conditions.py) grants only when the condition holds for the request: for
  role assignment delegation, the role, principal and principal type being assigned or deleted;
- an assignment counts for authorization from ``grant time`` (now + ``propagation_delay`` when made) and a removed one
  keeps counting until its revoke time (troubleshooting.md: changes take up to 10 minutes because ARM caches).

Built-in role data: ``data/builtin_roles.json`` holds the JSON blocks of azure-docs
``articles/role-based-access-control/built-in-roles/{privileged,general,compute,identity}.md`` (Owner, Contributor,
Reader, User Access Administrator, Role Based Access Control Administrator, Virtual Machine Contributor, Managed
Identity Operator, Managed Identity Contributor) in the shape ``GET roleDefinitions/{id}`` returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import conditions
from .actions import action_matches

BUILTIN_ROLES_PATH = Path(__file__).parent / "data" / "builtin_roles.json"


def load_builtin_roles() -> list[dict]:
    with BUILTIN_ROLES_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


def role_grants(definition: dict, action: str) -> bool:
    for permission in definition.get("properties", {}).get("permissions", []):
        if any(action_matches(p, action) for p in permission.get("actions", [])) and not any(
                action_matches(p, action) for p in permission.get("notActions", [])):
            return True
    return False


def normalize_scope(scope: str) -> str:
    """Lower-cased, no trailing slash; the root scope is "/"."""
    scope = scope.strip().rstrip("/").lower()
    return scope or "/"


MG_PREFIX = "/providers/microsoft.management/managementgroups/"


def ancestors(world: Any, scope: str) -> list[str]:
    """Normalized scopes whose assignments apply at ``scope``: the scope, its path prefixes, the management groups
    above its subscription (or above the group it names) up to the tenant root group, and "/"."""
    here = normalize_scope(scope)
    parts = [p for p in here.split("/") if p]
    chain, group = [], None
    if len(parts) >= 2 and parts[0] == "subscriptions":
        # Scopes have an even number of segments (type/name pairs); a longer odd path is a child collection.
        chain = ["/" + "/".join(parts[:n]) for n in range(len(parts), 1, -1) if n % 2 == 0 or n == len(parts)]
        group = world.subscription_parent(parts[1])
    elif here.startswith(MG_PREFIX) and len(parts) >= 4:
        chain = ["/" + "/".join(parts[:n]) for n in range(len(parts), 3, -1)]
        found = world.management_groups.get(parts[3])
        group = found["parent"] if found else None
    elif here != "/":
        chain = [here]
    chain += [MG_PREFIX + name.lower() for name in world.management_group_chain(group)]
    return chain + ["/"]


@lru_cache(maxsize=1024)
def _parsed(condition: str) -> conditions.Node | None:
    try:
        return conditions.parse(condition)
    except conditions.ConditionError:
        return None


def _holds(condition: str, action: str, attributes: dict[str, str]) -> bool:
    """A condition that does not parse grants nothing (ARM refuses to store one; a seed could still carry it)."""
    node = _parsed(condition)
    return node is not None and node(conditions.Context(action, attributes))


def role_guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    scope: str


class Rbac:
    """Evaluates effective assignments of the world, with a cache valid until the next grant or revoke time."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self._cache: dict[tuple[str, str, str], bool] = {}
        self._cache_key: tuple | None = None

    def effective_assignments(self, principal_id: str) -> list[dict]:
        """Assignments of the principal that count for authorization now (granted, or revoked but not yet gone)."""
        now = self.world.now()
        wanted = principal_id.lower()
        grant_times = self.world.grant_times()
        out = []
        for key, assignment in self.world.role_assignments.items():
            if assignment["properties"]["principalId"].lower() == wanted and grant_times.get(key, 0.0) <= now:
                out.append(assignment)
        for assignment, until in self.world.revoked().values():
            if assignment["properties"]["principalId"].lower() == wanted and until > now:
                out.append(assignment)
        return out

    def definition(self, role_definition_id: str) -> dict | None:
        return self.world.role_definitions.get(role_guid(role_definition_id))

    def _state_key(self) -> tuple:
        """Changes whenever the outcome of an evaluation may change: the set of assignments or definitions, or the
        clock passing a pending grant/revoke time."""
        now = self.world.now()
        revoked = self.world.revoked()
        pending = [t for t in self.world.grant_times().values() if t > now]
        pending += [until for _, until in revoked.values()]
        return (tuple(self.world.role_assignments), tuple(revoked), tuple(self.world.role_definitions),
                min(pending) if pending else None)

    def covers(self, outer: str, inner: str) -> bool:
        """Whether an assignment (or assignable scope) at ``outer`` applies at ``inner``, through the hierarchy."""
        return normalize_scope(outer) in ancestors(self.world, inner)

    def invalidate(self) -> None:
        self._cache.clear()
        self._cache_key = None

    def allowed(self, principal_id: str, action: str, scope: str, attributes: dict[str, str] | None = None,
                *, honour_conditions: bool = True) -> bool:
        """Whether the principal may perform ``action`` at ``scope``; ``attributes`` are what conditions see of the
        request (conditions.role_assignment_attributes)."""
        key = self._state_key()
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        cache_key = (principal_id.lower(), action.lower(), normalize_scope(scope),
                     tuple(sorted((attributes or {}).items())), honour_conditions)
        cached = self._cache.get(cache_key)
        if cached is None:
            cached = self._evaluate(principal_id, action, scope, attributes or {}, honour_conditions)
            self._cache[cache_key] = cached
        return cached

    def _evaluate(self, principal_id: str, action: str, scope: str, attributes: dict[str, str],
                  honour_conditions: bool) -> bool:
        above = set(ancestors(self.world, scope))
        for assignment in self.effective_assignments(principal_id):
            properties = assignment["properties"]
            if normalize_scope(properties["scope"]) not in above:
                continue
            definition = self.definition(properties["roleDefinitionId"])
            if definition is None or not role_grants(definition, action):
                continue
            if honour_conditions and properties.get("condition") and not _holds(properties["condition"], action,
                                                                                 attributes):
                continue
            return True
        return False

    def permissions(self, principal_id: str, scope: str) -> list[dict]:
        """The permission blocks of every effective assignment that applies at ``scope`` (the shape of
        ``GET {scope}/providers/Microsoft.Authorization/permissions``)."""
        out = []
        above = set(ancestors(self.world, scope))
        for assignment in self.effective_assignments(principal_id):
            if normalize_scope(assignment["properties"]["scope"]) not in above:
                continue
            definition = self.definition(assignment["properties"]["roleDefinitionId"])
            if definition is None:
                continue
            for permission in definition["properties"]["permissions"]:
                out.append({"actions": list(permission.get("actions", [])),
                            "notActions": list(permission.get("notActions", [])),
                            "dataActions": list(permission.get("dataActions", [])),
                            "notDataActions": list(permission.get("notDataActions", []))})
        return out
