# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exclusive role sets: a principal's complete set of roles at a scope.

ARM lists a principal's assignments at a scope together with those inherited from above it and those made below it
(role-assignments-list-rest.md). Only the ones made at the scope (and, by option, below it) are the set's to manage;
inherited ones come from someone else's scope and are reported, never removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from ansible_collections.managed_identity.azure.plugins.module_utils import _roles


@dataclass
class Plan:
    keep: List[Dict[str, Any]] = field(default_factory=list)  # at the scope (or below), wanted
    remove: List[Dict[str, Any]] = field(
        default_factory=list
    )  # at the scope (or below, with include_below), not wanted
    add: List[str] = field(default_factory=list)  # role definition GUIDs to assign at the scope
    inherited: List[Dict[str, Any]] = field(default_factory=list)  # above the scope: reported, never touched
    below: List[Dict[str, Any]] = field(default_factory=list)  # below the scope, left alone (include_below false)


def relation(assignment_scope: str, scope: str) -> str:
    """``at``, ``below`` or ``above``: where an assignment sits relative to ``scope`` (ARM IDs ignore case)."""
    outer, inner = _roles.scope_key(assignment_scope), _roles.scope_key(scope)
    if outer == inner:
        return "at"
    if inner == "/" or outer.startswith(inner + "/"):
        return "below"
    return "above"


def plan(
    assignments: Sequence[Mapping[str, Any]],
    scope: str,
    principal_id: str,
    wanted: Sequence[str],
    include_below: bool = False,
) -> Plan:
    """What to remove and add so that ``wanted`` (role definition GUIDs) is the principal's set at ``scope``.

    Below the scope (``include_below``) the set is "nothing but the wanted roles": a wanted role assigned on a child
    resource is kept, any other removed; nothing is added below."""
    wanted_keys = [w.lower() for w in wanted]
    result = Plan()
    present = set()
    for assignment in assignments:
        props = assignment.get("properties") or {}
        if (props.get("principalId") or "").lower() != principal_id.lower():
            continue
        where = relation(props.get("scope") or "", scope)
        guid = _roles.role_definition_guid(props.get("roleDefinitionId") or "")
        if where == "above":
            result.inherited.append(dict(assignment))
        elif where == "below" and not include_below:
            result.below.append(dict(assignment))
        elif guid in wanted_keys:
            result.keep.append(dict(assignment))
            if where == "at":
                present.add(guid)
        else:
            result.remove.append(dict(assignment))
    result.add = [w for w in dict.fromkeys(wanted_keys) if w not in present]
    return result


def role_names(client: Any, scope: str) -> Dict[str, Optional[str]]:
    """Role definition GUID -> role name, for the roles visible at ``scope`` (one list call)."""
    return {
        _roles.role_definition_guid(d.get("id") or ""): (d.get("properties") or {}).get("roleName")
        for d in _roles.list_role_definitions(client, scope)
    }


def facts(assignments: Iterable[Mapping[str, Any]], names: Mapping[str, Optional[str]]) -> List[Dict[str, Any]]:
    """``_roles.assignment_facts`` with the role's name and ARM's ``createdOn``, sorted by assignment ID."""
    found = []
    for assignment in sorted(assignments, key=lambda a: (a.get("id") or "").lower()):
        props = assignment.get("properties") or {}
        fact = _roles.assignment_facts(
            dict(assignment), names.get(_roles.role_definition_guid(props.get("roleDefinitionId") or ""))
        )
        fact["created_on"] = props.get("createdOn")
        found.append(fact)
    return found
