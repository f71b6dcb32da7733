# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Orphaned role assignments: assignments whose principal no longer exists in the directory.

Deleting a VM (its system-assigned identity), a user-assigned identity or an application leaves its role assignments
behind; the portal shows them as "Identity not found" (role-assignments-list-portal.md; azure-powershell#16981). The
portal finds them by resolving the assignments' principal IDs with Microsoft Graph ``directoryObjects/getByIds``; so
does this. A principal created moments ago may not have replicated to the directory replica Graph answers from yet
(troubleshooting.md, "PrincipalNotFound"): an assignment younger than the grace period is reported as not yet
replicated, never as orphaned, and every principal is looked up a second time right before anything is removed.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Set

from ansible_collections.managed_identity.azure.plugins.module_utils import _rbac_sets

# Entra ID replication usually completes within minutes; an hour leaves a wide margin and only delays the clean-up
# of a real orphan to the next run.
DEFAULT_GRACE_PERIOD = 3600.0


@dataclass
class Sweep:
    orphans: List[Dict[str, Any]] = field(default_factory=list)
    not_replicated: List[Dict[str, Any]] = field(default_factory=list)
    found_on_second_look: List[Dict[str, Any]] = field(default_factory=list)


def created_on(assignment: Mapping[str, Any]) -> Optional[float]:
    """``properties.createdOn`` ("2024-05-01T10:00:00.1234567Z") as epoch seconds, or None."""
    text = str((assignment.get("properties") or {}).get("createdOn") or "")
    try:
        return float(calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def in_scope(assignments: Sequence[Mapping[str, Any]], scope: str) -> List[Dict[str, Any]]:
    """The assignments made at ``scope`` or below it (ARM's list also has the inherited ones, made elsewhere)."""
    return [
        dict(a)
        for a in assignments
        if _rbac_sets.relation((a.get("properties") or {}).get("scope") or "", scope) in ("at", "below")
    ]


def classify(assignments: Sequence[Mapping[str, Any]], existing: Set[str], now: float, grace_period: float) -> Sweep:
    """Split the assignments whose principal is not in ``existing`` (lower-cased IDs) by age."""
    sweep = Sweep()
    for assignment in assignments:
        principal = str((assignment.get("properties") or {}).get("principalId") or "").lower()
        if principal in existing:
            continue
        created = created_on(assignment)
        young = created is not None and now - created < grace_period
        (sweep.not_replicated if young else sweep.orphans).append(dict(assignment))
    return sweep


def second_look(sweep: Sweep, lookup: Callable[[List[str]], Set[str]]) -> None:
    """Look the orphans' principals up once more: one that appears now (a replica caught up) is not an orphan."""
    if not sweep.orphans:
        return
    found = lookup([(a.get("properties") or {}).get("principalId") or "" for a in sweep.orphans])
    still = []
    for assignment in sweep.orphans:
        principal = str((assignment.get("properties") or {}).get("principalId") or "").lower()
        (sweep.found_on_second_look if principal in found else still).append(assignment)
    sweep.orphans = still
