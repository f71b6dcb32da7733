"""Seed files (YAML): parse, validate and build a World from them. The format is documented in README.md."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from . import resources as res
from .arm import compute, network
from .knobs import Knobs
from .mint import Minter
from .world import World

DEFAULT_FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
DEFAULT_FEDERATION_ISSUER = "https://oidc.azure-emulator.local/"
_PACKAGE = Path(__file__).parent
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Principals of the seed existed before the emulator started: a day old, so the replication_delay knob (a new
# principal unknown to ARM and Graph for a while) applies only to principals created at run time.
SEEDED_PRINCIPAL_AGE = 86400.0


class SeedError(ValueError):
    """A seed that cannot be loaded; the message names the entry and the fix."""


def load_seed(source: str | Path | dict | None) -> dict:
    """``None`` = the packaged default seed; a path = a YAML file; a dict = an already parsed seed."""
    if isinstance(source, dict):
        return source
    if source is None:
        text = (_PACKAGE / "seeds" / "default.yaml").read_text(encoding="utf-8")
        where = "default seed"
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise SeedError(f"cannot read seed file {str(source)!r}: {exc.strerror}") from None
        where = str(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SeedError(f"seed {where!r} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SeedError(f"seed {where!r} must be a mapping with 'subscriptions', 'service_principals', ...")
    return data


def builtin_roles() -> list[dict]:
    path = _PACKAGE / "data" / "builtin_roles.json"
    return json.loads(path.read_text(encoding="utf-8"))


def build_world(seed: dict, knobs: Knobs, minter: Minter, now: float) -> World:
    return _Builder(seed, knobs, minter, now).build()


def _guid(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _GUID.match(value):
        raise SeedError(f"{where}: {value!r} is not a GUID (form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    return value.lower()


def _items(parent: dict, key: str, where: str) -> list[dict]:
    value = parent.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SeedError(f"{where}.{key} must be a list of mappings")
    return value


def _graph_roles(entry: dict, where: str) -> list[str]:
    """Microsoft Graph application permissions granted (with admin consent) to a principal."""
    value = entry.get("graph_permissions") or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SeedError(f"{where}.graph_permissions must be a list of Graph application permission names, "
                        "e.g. [Directory.Read.All]")
    return [v.strip() for v in value]


def _name(entry: dict, where: str) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise SeedError(f"{where}: 'name' is required")
    return name


class _Builder:
    def __init__(self, seed: dict, knobs: Knobs, minter: Minter, now: float) -> None:
        self.seed = seed
        self.mint = minter
        self.now = now
        tenant = seed.get("tenant_id")
        self.world = World(_guid(tenant, "tenant_id") if tenant else minter.guid("tenant"), knobs)
        self.uamis: dict[str, str] = {}       # lower(name) and lower(id) -> UAMI id
        self.systems: dict[str, str] = {}     # lower(VM/VMSS name) -> principal object id
        self.addresses = network.Addresses(self.world)

    def build(self) -> World:
        self.world.add_builtin_roles(builtin_roles())
        subscriptions = _items(self.seed, "subscriptions", "seed")
        if not subscriptions:
            raise SeedError("seed: declare at least one entry under 'subscriptions'")
        for i, sub in enumerate(subscriptions):
            self._subscription(sub, f"subscriptions[{i}]")
        for i, group in enumerate(_items(self.seed, "management_groups", "seed")):
            self._management_group(group, f"management_groups[{i}]")
        for i, sp in enumerate(_items(self.seed, "service_principals", "seed")):
            self._service_principal(sp, f"service_principals[{i}]")
        for i, role in enumerate(_items(self.seed, "role_definitions", "seed")):
            self._role_definition(role, f"role_definitions[{i}]")
        for i, ra in enumerate(_items(self.seed, "role_assignments", "seed")):
            self._role_assignment(ra, f"role_assignments[{i}]")
        return self.world

    def _subscription(self, sub: dict, where: str) -> None:
        sub_id = _guid(sub.get("subscription_id"), f"{where}.subscription_id")
        self.world.subscriptions[sub_id] = {
            "id": f"/subscriptions/{sub_id}", "subscriptionId": sub_id,
            "displayName": sub.get("display_name") or f"Subscription {sub_id[:8]}", "state": "Enabled",
            "tenantId": self.world.tenant_id,
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                     "spendingLimit": "Off"},
            "authorizationSource": "RoleBased"}
        for i, rg in enumerate(_items(sub, "resource_groups", where)):
            self._resource_group(sub_id, rg, f"{where}.resource_groups[{i}]")

    def _management_group(self, entry: dict, where: str) -> None:
        """A group under the tenant root group (default) or an earlier group, holding subscriptions."""
        name = _name(entry, where)
        if name.lower() in self.world.management_groups:
            raise SeedError(f"{where}: management group {name!r} is declared twice (the tenant root group, named "
                            "after the tenant id, always exists)")
        parent = entry.get("parent") or self.world.tenant_id
        if str(parent).lower() not in self.world.management_groups:
            raise SeedError(f"{where}.parent: {parent!r} is not the tenant id or a management group declared above")
        group = self.world.add_management_group(name, entry.get("display_name") or name,
                                                self.world.management_groups[str(parent).lower()]["name"])
        for sub in entry.get("subscriptions") or []:
            sub_id = str(sub).lower()
            if sub_id not in self.world.subscriptions:
                raise SeedError(f"{where}.subscriptions: {sub!r} is not a subscription declared under 'subscriptions'")
            if sub_id in self.world.subscription_parents:
                raise SeedError(f"{where}.subscriptions: {sub!r} is already in management group "
                                f"{self.world.subscription_parents[sub_id]!r}")
            self.world.subscription_parents[sub_id] = group["name"]

    def _resource_group(self, sub_id: str, rg: dict, where: str) -> None:
        name = _name(rg, where)
        location = rg.get("location") or "westus"
        self.world.put(res.resource_group(sub_id, name, location, rg.get("tags")))
        # UAMIs first: VMs refer to them.
        for i, entry in enumerate(_items(rg, "user_assigned_identities", where)):
            self._uami(sub_id, name, location, entry, f"{where}.user_assigned_identities[{i}]")
        for i, entry in enumerate(_items(rg, "vms", where)):
            self._vm(sub_id, name, location, entry, f"{where}.vms[{i}]", scale_set=False)
        for i, entry in enumerate(_items(rg, "vm_scale_sets", where)):
            self._vm(sub_id, name, location, entry, f"{where}.vm_scale_sets[{i}]", scale_set=True)

    def _uami(self, sub_id: str, rg: str, location: str, entry: dict, where: str) -> None:
        name = _name(entry, where)
        ident = f"uami:{sub_id}/{rg}/{name}".lower()
        client_id = _guid(entry["client_id"], f"{where}.client_id") if "client_id" in entry \
            else self.mint.guid(ident + ":client")
        object_id = _guid(entry["principal_id"], f"{where}.principal_id") if "principal_id" in entry \
            else self.mint.guid(ident + ":object")
        resource = res.uami(sub_id, rg, name, entry.get("location") or location, self.world.tenant_id,
                            client_id, object_id, entry.get("tags"))
        self.world.put(resource)
        self.world.add_principal(object_id=object_id, client_id=client_id, display_name=name,
                                 kind="managed_identity", mi_resource_id=resource["id"],
                                 created_at=self.now - SEEDED_PRINCIPAL_AGE, graph_roles=_graph_roles(entry, where))
        self.uamis[name.lower()] = resource["id"]
        self.uamis[resource["id"].lower()] = resource["id"]

    def _vm(self, sub_id: str, rg: str, location: str, entry: dict, where: str, *, scale_set: bool) -> None:
        name = _name(entry, where)
        os_type = str(entry.get("os_type", "Linux"))
        if os_type.lower() not in ("linux", "windows"):
            raise SeedError(f"{where}.os_type: {os_type!r} is not 'Linux' or 'Windows'")
        ident = f"{'vmss' if scale_set else 'vm'}:{sub_id}/{rg}/{name}".lower()
        size = entry.get("size") or "Standard_DS1_v2"
        where_loc = entry.get("location") or location
        identity_spec = entry.get("identity") or {}
        if not isinstance(identity_spec, dict):
            raise SeedError(f"{where}.identity must be a mapping with 'system_assigned' and/or 'user_assigned'")
        user_assigned = {}
        for ref in identity_spec.get("user_assigned") or []:
            uami_id = self.uamis.get(str(ref).lower())
            if uami_id is None:
                raise SeedError(f"{where}.identity.user_assigned: no user-assigned identity {ref!r} is declared "
                                "(declare it under the resource group's 'user_assigned_identities' first)")
            props = self.world.get(uami_id)["properties"]
            user_assigned[uami_id] = {"principalId": props["principalId"], "clientId": props["clientId"]}
        args = dict(sub=sub_id, rg=rg, name=name, location=where_loc, os_type=os_type, size=size,
                    created=self.now, tags=entry.get("tags"), identity=None)
        if scale_set:
            resource = res.scale_set(capacity=int(entry.get("capacity", 2)),
                                     unique_id=self.mint.guid(ident + ":vmid"), **args)
        else:
            resource = res.virtual_machine(vm_id=self.mint.guid(ident + ":vmid"), **args)
        system_id = None
        if identity_spec.get("system_assigned"):
            system_id = self.mint.guid(ident + ":object")
            self.world.add_principal(object_id=system_id, client_id=self.mint.guid(ident + ":client"),
                                     display_name=name, kind="managed_identity", mi_resource_id=resource["id"],
                                     created_at=self.now - SEEDED_PRINCIPAL_AGE)
            self.systems[name.lower()] = system_id
        identity = res.identity_block(self.world.tenant_id, system_id, user_assigned)
        if identity:
            resource["identity"] = identity
        self.world.put(resource)
        if not scale_set:
            self._vm_network_and_power(resource, entry, where)

    def _vm_network_and_power(self, vm: dict, entry: dict, where: str) -> None:
        public_ip = entry.get("public_ip", False)
        if not isinstance(public_ip, (bool, str)):
            raise SeedError(f"{where}.public_ip: give true (an address is picked) or an IPv4 address")
        private_ip = entry.get("private_ip")
        if private_ip is not None and not (isinstance(private_ip, str) and _IPV4.match(private_ip)):
            raise SeedError(f"{where}.private_ip: {private_ip!r} is not an IPv4 address such as 10.0.0.4")
        try:
            network.attach(self.world, vm, self.addresses, public_ip=public_ip or None, private_ip=private_ip)
        except network.AddressError as err:
            raise SeedError(f"{where}.public_ip: {err}") from None
        state = str(entry.get("power_state", "running"))
        if state not in compute.POWER_STATES:
            raise SeedError(f"{where}.power_state: {state!r} is not one of {', '.join(compute.POWER_STATES)}")
        compute.set_power_state(self.world, vm["id"], state)

    def _service_principal(self, entry: dict, where: str) -> None:
        name = _name(entry, where)
        ident = f"sp:{name}"
        if self.world.principal_by_name(name):
            raise SeedError(f"{where}: a service principal named {name!r} is declared twice")
        secrets = entry.get("secrets") or ([entry["secret"]] if entry.get("secret") else
                                           [self.mint.secret(ident)])
        federated = []
        for i, cred in enumerate(_items(entry, "federated_credentials", where)):
            subject = cred.get("subject")
            if not isinstance(subject, str) or not subject:
                raise SeedError(f"{where}.federated_credentials[{i}]: 'subject' is required")
            audiences = cred.get("audiences") or [DEFAULT_FEDERATION_AUDIENCE]
            federated.append({"name": cred.get("name") or f"credential{i}",
                              "issuer": cred.get("issuer") or DEFAULT_FEDERATION_ISSUER,
                              "subject": subject, "audiences": list(audiences)})
        self.world.add_principal(
            name=name, display_name=entry.get("display_name") or name, kind="application",
            object_id=_guid(entry["object_id"], f"{where}.object_id") if "object_id" in entry
            else self.mint.guid(ident + ":object"),
            client_id=_guid(entry["client_id"], f"{where}.client_id") if "client_id" in entry
            else self.mint.guid(ident + ":client"),
            secrets=[str(s) for s in secrets], federated=federated, created_at=self.now - SEEDED_PRINCIPAL_AGE,
            graph_roles=_graph_roles(entry, where))

    def _role_definition(self, entry: dict, where: str) -> None:
        role_name = entry.get("role_name")
        if not isinstance(role_name, str) or not role_name:
            raise SeedError(f"{where}: 'role_name' is required")
        if self.world.role_definition_by_name(role_name):
            raise SeedError(f"{where}: a role named {role_name!r} already exists")
        guid = _guid(entry["id"], f"{where}.id") if "id" in entry else self.mint.guid(f"role:{role_name}")
        scopes = entry.get("assignable_scopes") or [f"/subscriptions/{s}" for s in self.world.subscriptions]
        permissions = {"actions": entry.get("actions") or [], "notActions": entry.get("not_actions") or [],
                       "dataActions": entry.get("data_actions") or [],
                       "notDataActions": entry.get("not_data_actions") or []}
        self.world.role_definitions[guid] = res.custom_role(guid, role_name, entry.get("description") or "",
                                                            scopes, permissions, self.now)

    def _role_assignment(self, entry: dict, where: str) -> None:
        principal_id = self._principal_ref(entry.get("principal"), f"{where}.principal")
        role = entry.get("role")
        if not isinstance(role, str):
            raise SeedError(f"{where}.role: give a role name (e.g. 'Owner') or a role definition GUID")
        definition = self.world.role_definitions.get(role.lower()) or self.world.role_definition_by_name(role)
        if definition is None:
            raise SeedError(f"{where}.role: no role definition named or with id {role!r}")
        scope = entry.get("scope") or f"/subscriptions/{next(iter(self.world.subscriptions))}"
        if not isinstance(scope, str) or not scope.startswith("/"):
            raise SeedError(f"{where}.scope: {scope!r} is not an ARM scope such as /subscriptions/<id>")
        guid = _guid(entry["id"], f"{where}.id") if "id" in entry \
            else self.mint.guid(f"ra:{scope.lower()}:{principal_id}:{definition['name']}")
        age = entry.get("age", 0)
        if isinstance(age, bool) or not isinstance(age, (int, float)) or age < 0:
            raise SeedError(f"{where}.age: {age!r} is not a number of seconds (how long ago the assignment was made)")
        self.world.add_role_assignment(
            res.role_assignment(scope, guid, definition["name"], principal_id, self.now - age), effective_now=True)

    def _principal_ref(self, ref: Any, where: str) -> str:
        """A service principal's seed name, a UAMI name or id, a VM/VMSS name (its system identity), or a GUID."""
        if not isinstance(ref, str) or not ref:
            raise SeedError(f"{where} is required: a service principal name, a user-assigned identity name, "
                            "a VM name (its system-assigned identity) or an object id")
        sp = self.world.principal_by_name(ref)
        if sp:
            return sp.object_id
        uami_id = self.uamis.get(ref.lower())
        if uami_id:
            return self.world.get(uami_id)["properties"]["principalId"]
        if ref.lower() in self.systems:
            return self.systems[ref.lower()]
        if _GUID.match(ref):
            return ref.lower()
        raise SeedError(f"{where}: {ref!r} names no declared service principal, user-assigned identity, or VM "
                        "with a system-assigned identity")
