"""The emulated tenant: subscriptions, ARM resources, principals, roles; seed loading and ``--state`` persistence.

Handlers run on one event loop and mutate the world without awaiting in the middle of a mutation, so no locks.
Every write is followed by ``commit()``, which persists atomically when ``--state`` was given.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .knobs import Knobs

STATE_VERSION = 1
VM_TYPE = "microsoft.compute/virtualmachines"


@dataclass
class Principal:
    """A service principal in the tenant (an application's SP or a managed identity)."""

    object_id: str
    client_id: str
    display_name: str
    kind: str = "application"                 # "application" | "managed_identity"
    secrets: list[str] = field(default_factory=list)
    federated: list[dict] = field(default_factory=list)
    mi_resource_id: str | None = None         # xms_mirid (lower-case 'resourcegroups' for UAMIs)
    created_at: float = 0.0
    name: str | None = None                   # the seed's name for it ("operator"); None when made at run time
    graph_roles: list[str] = field(default_factory=list)  # Microsoft Graph application permissions granted

    def to_dict(self) -> dict:
        return asdict(self)


class World:
    """All mutable emulator state. Keys of the dicts are lower-cased IDs; values keep Azure's casing."""

    def __init__(self, tenant_id: str, knobs: Knobs, state_path: str | Path | None = None) -> None:
        self.tenant_id = tenant_id
        self.knobs = knobs
        self.state_path = Path(state_path) if state_path else None
        self.subscriptions: dict[str, dict] = {}
        self.resources: dict[str, dict] = {}
        self.principals: dict[str, Principal] = {}
        self.role_definitions: dict[str, dict] = {}
        self.role_assignments: dict[str, dict] = {}
        # Management groups: lower(name) -> {"name", "display_name", "parent"}; the tenant root group (name = the
        # tenant id, parent None) always exists. subscription_parents: lower(subscription id) -> group name; a
        # subscription not listed sits under the tenant root group, as new subscriptions do in Azure.
        self.management_groups: dict[str, dict] = {}
        self.subscription_parents: dict[str, str] = {}
        self.add_management_group(tenant_id, "Tenant Root Group", None)
        # Secrets and key material that must survive a restart (PKI, signing key, mint salt, endpoint secrets).
        self.keys: dict[str, Any] = {}
        # Free-form persisted values for other parts of the emulator (e.g. identity endpoint secrets).
        self.extra: dict[str, Any] = {}
        self._by_client_id: dict[str, Principal] = {}
        self._grant_times: dict[str, float] = {}
        self._revoked: dict[str, tuple[dict, float]] = {}
        self._builtin_role_ids: set[str] = set()
        self.on_vms_changed: Callable[[], None] | None = None

    # -- clock and persistence ------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time()

    def commit(self) -> None:
        """Persist atomically (temp file + os.replace) if ``--state`` was given."""
        if self.state_path is None:
            return
        data = json.dumps(self.to_state(), separators=(",", ":"))
        directory = self.state_path.parent
        fd, tmp = tempfile.mkstemp(prefix=".azure-emulator-state-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
            os.replace(tmp, self.state_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def to_state(self) -> dict:
        """Everything needed to restart where we stopped (built-in roles are reloaded from the package)."""
        return {
            "version": STATE_VERSION,
            "tenant_id": self.tenant_id,
            "subscriptions": self.subscriptions,
            "resources": self.resources,
            "principals": [p.to_dict() for p in self.principals.values()],
            "role_definitions": {k: v for k, v in self.role_definitions.items() if k not in self._builtin_role_ids},
            "role_assignments": self.role_assignments,
            "management_groups": self.management_groups,
            "subscription_parents": self.subscription_parents,
            "grant_times": self._grant_times,
            "revoked": {k: [ra, t] for k, (ra, t) in self._revoked.items()},
            "keys": self.keys,
            "extra": self.extra,
        }

    def load_state(self, data: dict) -> None:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"state file version {data.get('version')!r} is not {STATE_VERSION}")
        self.tenant_id = data["tenant_id"]
        self.subscriptions = data["subscriptions"]
        self.resources = data["resources"]
        self.principals = {}
        self._by_client_id = {}
        for raw in data["principals"]:
            self._index(Principal(**raw))
        self.role_definitions.update(data["role_definitions"])
        self.role_assignments = data["role_assignments"]
        self.management_groups = data.get("management_groups") or {}
        if self.tenant_id.lower() not in self.management_groups:  # a state file written before groups existed
            self.add_management_group(self.tenant_id, "Tenant Root Group", None)
        self.subscription_parents = data.get("subscription_parents") or {}
        self._grant_times = data["grant_times"]
        self._revoked = {k: (v[0], v[1]) for k, v in data["revoked"].items()}
        self.keys = data["keys"]
        self.extra = data.get("extra", {})

    def snapshot(self) -> dict:
        return copy.deepcopy(self.to_state())

    def restore(self, snapshot: dict) -> None:
        builtins = {k: self.role_definitions[k] for k in self._builtin_role_ids}
        self.role_definitions = builtins
        self.load_state(copy.deepcopy(snapshot))
        self._vms_changed()

    # -- resources ------------------------------------------------------------------------------------------
    def get(self, resource_id: str) -> dict | None:
        return self.resources.get(resource_id.rstrip("/").lower())

    def put(self, resource: dict) -> None:
        key = resource["id"].lower()
        is_new_vm = key not in self.resources and resource.get("type", "").lower() == VM_TYPE
        self.resources[key] = resource
        if is_new_vm:
            self._vms_changed()

    def delete(self, resource_id: str) -> dict | None:
        removed = self.resources.pop(resource_id.rstrip("/").lower(), None)
        if removed is not None and removed.get("type", "").lower() == VM_TYPE:
            self._vms_changed()
        return removed

    def vms(self) -> list[dict]:
        return [r for r in self.resources.values() if r.get("type", "").lower() == VM_TYPE]

    def _vms_changed(self) -> None:
        if self.on_vms_changed is not None:
            self.on_vms_changed()

    # -- principals -----------------------------------------------------------------------------------------
    def principal(self, object_id: str) -> Principal | None:
        return self.principals.get(object_id.lower())

    def principal_by_client_id(self, client_id: str) -> Principal | None:
        return self._by_client_id.get(client_id.lower())

    def principal_by_name(self, name: str) -> Principal | None:
        return next((p for p in self.principals.values() if p.name == name), None)

    def add_principal(self, **fields: Any) -> Principal:
        """Create a principal; GUIDs are minted where not given and ``created_at`` is now."""
        fields.setdefault("object_id", str(uuid.uuid4()))
        fields.setdefault("client_id", str(uuid.uuid4()))
        fields.setdefault("display_name", fields.get("name") or fields["client_id"])
        fields.setdefault("created_at", self.now())
        principal = Principal(**fields)
        if self.principal(principal.object_id) or self.principal_by_client_id(principal.client_id):
            raise ValueError(f"a principal with object id {principal.object_id} or client id "
                             f"{principal.client_id} already exists")
        self._index(principal)
        return principal

    def remove_principal(self, object_id: str) -> None:
        principal = self.principals.pop(object_id.lower(), None)
        if principal is not None:
            self._by_client_id.pop(principal.client_id.lower(), None)

    def _index(self, principal: Principal) -> None:
        self.principals[principal.object_id.lower()] = principal
        self._by_client_id[principal.client_id.lower()] = principal

    # -- management groups ----------------------------------------------------------------------------------
    def add_management_group(self, name: str, display_name: str, parent: str | None) -> dict:
        group = {"name": name, "display_name": display_name, "parent": parent}
        self.management_groups[name.lower()] = group
        return group

    def management_group_chain(self, name: str | None) -> list[str]:
        """``name`` and its ancestors up to the tenant root group (names as stored)."""
        chain: list[str] = []
        while name and name.lower() in self.management_groups and name not in chain:
            chain.append(self.management_groups[name.lower()]["name"])
            name = self.management_groups[name.lower()]["parent"]
        return chain

    def subscription_parent(self, subscription_id: str) -> str:
        return self.subscription_parents.get(subscription_id.lower(), self.tenant_id)

    # -- roles ----------------------------------------------------------------------------------------------
    def add_builtin_roles(self, definitions: list[dict]) -> None:
        for definition in definitions:
            key = definition["name"].lower()
            self.role_definitions[key] = definition
            self._builtin_role_ids.add(key)

    def role_definition_by_name(self, role_name: str) -> dict | None:
        wanted = role_name.lower()
        return next((d for d in self.role_definitions.values()
                     if d["properties"]["roleName"].lower() == wanted), None)

    def add_role_assignment(self, assignment: dict, *, effective_now: bool = False) -> None:
        """Store an assignment; it affects authorization after ``knobs.propagation_delay``."""
        key = assignment["id"].lower()
        self.role_assignments[key] = assignment
        self._revoked.pop(key, None)
        delay = 0.0 if effective_now else self.knobs.propagation_delay
        self._grant_times[key] = self.now() + delay

    def remove_role_assignment(self, assignment_id: str) -> dict | None:
        """Remove an assignment; it keeps authorizing for ``knobs.propagation_delay`` seconds."""
        key = assignment_id.lower()
        removed = self.role_assignments.pop(key, None)
        self._grant_times.pop(key, None)
        if removed is not None and self.knobs.propagation_delay > 0:
            self._revoked[key] = (removed, self.now() + self.knobs.propagation_delay)
        return removed

    def grant_times(self) -> dict[str, float]:
        """lower(assignment id) -> time from which the assignment counts for authorization."""
        return self._grant_times

    def revoked(self) -> dict[str, tuple[dict, float]]:
        """Removed assignments that still authorize until the given time (expired entries are dropped)."""
        now = self.now()
        for key in [k for k, (_, until) in self._revoked.items() if until <= now]:
            del self._revoked[key]
        return self._revoked
