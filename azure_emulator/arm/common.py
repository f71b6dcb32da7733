"""Helpers shared by the ARM handlers: IDs, lookups of subscriptions and resource groups, ARM headers."""

from __future__ import annotations

import re
import time
from typing import Any

from . import errors

AUTH_NS = "Microsoft.Authorization"
RG_READ = "Microsoft.Resources/subscriptions/resourceGroups/read"


# The RBAC action a plain CRUD request on a resource needs, by HTTP method ({type}/{action}).
CRUD_ACTIONS = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}


def iso_now(ts: float | None = None) -> str:
    """ARM's timestamps: 7 fractional digits and an explicit offset ("2017-01-06T18:58:24.7596323+00:00")."""
    ts = time.time() if ts is None else ts
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e7):07d}+00:00"


def iso_z(ts: float) -> str:
    """Microsoft.Authorization's timestamps ("2022-01-15T21:08:45.4904312Z")."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e7):07d}Z"


_GUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)


def is_guid(value: str) -> bool:
    return _GUID.fullmatch(value or "") is not None


def subscription(world: Any, sub: str) -> dict:
    found = world.subscriptions.get(sub.lower())
    if found is None:
        raise errors.subscription_not_found(sub)
    return found


def resource_group(world: Any, sub: str, rg: str) -> dict:
    found = world.get(f"/subscriptions/{sub}/resourceGroups/{rg}")
    if found is None:
        raise errors.resource_group_not_found(rg)
    return found


def rg_scope(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def canonical_sub(world: Any, sub: str) -> str:
    """The subscription id in its stored casing (IDs come back as Azure stored them)."""
    found = world.subscriptions.get(sub.lower())
    return found["subscriptionId"] if found else sub


def parse_scope(scope: str) -> dict[str, str]:
    """subscription / resourceGroup of an ARM scope or resource id ('' when absent)."""
    parts = [p for p in scope.split("/") if p]
    out = {"subscription": "", "resourceGroup": ""}
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        out["subscription"] = parts[1]
        if len(parts) >= 4 and parts[2].lower() == "resourcegroups":
            out["resourceGroup"] = parts[3]
    return out


def resources_of_type(world: Any, type_name: str, sub: str, rg: str | None = None) -> list[dict]:
    prefix = f"/subscriptions/{sub}/".lower() if rg is None else f"/subscriptions/{sub}/resourcegroups/{rg}/".lower()
    wanted = type_name.lower()
    return [r for key, r in world.resources.items()
            if key.startswith(prefix) and r.get("type", "").lower() == wanted]
