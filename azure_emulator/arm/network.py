"""Network interfaces and public IP addresses (Microsoft.Network): made with every VM, read through ARM.

Every VM gets the NIC ``az vm create`` would give it ("<vm>VMNic", one IP configuration, primary), with a deterministic
private address: one 10.N.0.0/16 virtual network per resource group (N in order of first use) and hosts from .4 on
(Azure keeps the first four addresses of a subnet, learn.microsoft.com virtual-network-ip-addresses-overview-arm).
A seed may give a VM a Standard static public IP ("<vm>PublicIP"); addresses come from the RFC 5737 documentation
ranges, so an emulated public address can never be somebody's real host. Only reads are served (list per
subscription and per resource group with ``nextLink`` paging, GET); the emulator makes these resources itself.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid

from aiohttp import web

from .. import resources as arm_json
from . import common, errors
from .app import Ctx, respond

KINDS = {"networkinterfaces": "networkInterfaces", "publicipaddresses": "publicIPAddresses"}
NIC_TYPE = "Microsoft.Network/networkInterfaces"
PIP_TYPE = "Microsoft.Network/publicIPAddresses"
PUBLIC_RANGES = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
FIRST_HOST = 4


class AddressError(ValueError):
    """No address left, or an address that cannot be used; the message names the fix."""


class Addresses:
    """Hands out private and public addresses that no NIC or public IP of the world uses yet."""

    def __init__(self, world) -> None:
        self._networks: dict[str, int] = {}      # lower("sub/rg") -> second octet of its 10.N.0.0/16
        self._next_host: dict[str, int] = {}     # lower("sub/rg") -> next host number in it
        self._public_used: set[str] = set()
        for resource in world.resources.values():
            kind = resource.get("type", "").lower()
            if kind == NIC_TYPE.lower():
                self._note_private(resource)
            elif kind == PIP_TYPE.lower():
                address = (resource.get("properties") or {}).get("ipAddress")
                if address:
                    self._public_used.add(address)

    def _note_private(self, nic: dict) -> None:
        parts = common.parse_scope(nic["id"])
        key = f"{parts['subscription']}/{parts['resourceGroup']}".lower()
        for config in (nic.get("properties") or {}).get("ipConfigurations") or []:
            address = (config.get("properties") or {}).get("privateIPAddress") or ""
            octets = address.split(".")
            if len(octets) != 4 or octets[0] != "10":
                continue
            self._networks.setdefault(key, int(octets[1]))
            host = int(octets[2]) * 256 + int(octets[3])
            self._next_host[key] = max(self._next_host.get(key, FIRST_HOST), host + 1)

    def private(self, sub: str, rg: str) -> str:
        key = f"{sub}/{rg}".lower()
        if key not in self._networks:
            self._networks[key] = len(self._networks) % 256
        host = self._next_host.get(key, FIRST_HOST)
        if host >= 65535:
            raise AddressError(f"resource group {rg!r} has no private address left in 10.{self._networks[key]}.0.0/16")
        self._next_host[key] = host + 1
        return f"10.{self._networks[key]}.{host // 256}.{host % 256}"

    def public(self) -> str:
        for network in PUBLIC_RANGES:
            for address in ipaddress.ip_network(network).hosts():
                text = str(address)
                if text not in self._public_used:
                    self._public_used.add(text)
                    return text
        raise AddressError("no documentation-range public address left; give public_ip addresses explicitly")

    def claim_public(self, address: str) -> str:
        try:
            parsed = ipaddress.IPv4Address(address)
        except ValueError:
            raise AddressError(f"{address!r} is not an IPv4 address") from None
        if str(parsed) in self._public_used:
            raise AddressError(f"public address {address} is used twice")
        self._public_used.add(str(parsed))
        return str(parsed)


def _guid(resource_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, resource_id.lower()))


def _mac(resource_id: str) -> str:
    # 00-0D-3A is the Microsoft prefix Azure NICs carry; the rest is stable per NIC.
    digest = hashlib.sha256(resource_id.lower().encode()).hexdigest()[:6].upper()
    return "00-0D-3A-" + "-".join(digest[i:i + 2] for i in range(0, 6, 2))


def attach(world, vm: dict, addresses: Addresses, *, public_ip: bool | str | None = None,
           private_ip: str | None = None) -> None:
    """Make the NICs a VM's ``networkProfile`` names and that do not exist yet (and a public IP if asked)."""
    parts = common.parse_scope(vm["id"])
    sub, rg = parts["subscription"], parts["resourceGroup"]
    for ref in ((vm.get("properties") or {}).get("networkProfile") or {}).get("networkInterfaces") or []:
        nic_id = ref.get("id") or ""
        if not nic_id or world.get(nic_id) is not None:
            continue
        nic_parts = common.parse_scope(nic_id)
        nic_rg = nic_parts["resourceGroup"] or rg
        subnet_id = (f"{arm_json.rg_id(sub, nic_rg)}/providers/Microsoft.Network/virtualNetworks/{nic_rg}-vnet"
                     "/subnets/default")
        pip_id = None
        if public_ip:
            pip_id = f"{arm_json.rg_id(sub, nic_rg)}/providers/{PIP_TYPE}/{vm['name']}PublicIP"
            address = addresses.claim_public(public_ip) if isinstance(public_ip, str) else addresses.public()
            world.put(arm_json.public_ip_address(pip_id, vm["location"], address,
                                                 f"{nic_id}/ipConfigurations/ipconfig1", _guid(pip_id)))
            public_ip = None  # only the first NIC gets it
        world.put(arm_json.network_interface(nic_id, vm["location"], vm["id"],
                                             private_ip or addresses.private(sub, nic_rg), subnet_id, _mac(nic_id),
                                             _guid(nic_id), pip_id))
        private_ip = None


def detach(world, vm: dict) -> None:
    """A deleted VM takes the NICs it was created with along (their ``deleteOption`` is Delete)."""
    for ref in ((vm.get("properties") or {}).get("networkProfile") or {}).get("networkInterfaces") or []:
        if (ref.get("properties") or {}).get("deleteOption") == "Delete" and ref.get("id"):
            world.delete(ref["id"])


# -- ARM handlers ---------------------------------------------------------------------------------------------------

def _kind(ctx: Ctx) -> str:
    return KINDS[ctx.params["kind"].lower()]


async def list_in_subscription(ctx: Ctx) -> web.Response:
    kind = _kind(ctx)
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    ctx.check_version(kind)
    ctx.require(f"Microsoft.Network/{kind}/read", f"/subscriptions/{sub}")
    items = common.resources_of_type(ctx.world, f"Microsoft.Network/{kind}", sub)
    return respond(200, ctx.page(sorted(items, key=lambda r: r["id"].lower())))


async def list_in_group(ctx: Ctx) -> web.Response:
    kind = _kind(ctx)
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    ctx.check_version(kind)
    ctx.require(f"Microsoft.Network/{kind}/read", common.rg_scope(sub, ctx.params["rg"]))
    common.resource_group(ctx.world, sub, ctx.params["rg"])
    items = common.resources_of_type(ctx.world, f"Microsoft.Network/{kind}", sub, ctx.params["rg"])
    return respond(200, ctx.page(sorted(items, key=lambda r: r["id"].lower())))


async def get(ctx: Ctx) -> web.Response:
    kind = _kind(ctx)
    sub = common.subscription(ctx.world, ctx.params["sub"])["subscriptionId"]
    ctx.check_version(kind)
    rid = f"{common.rg_scope(sub, ctx.params['rg'])}/providers/Microsoft.Network/{kind}/{ctx.params['name']}"
    existing = ctx.world.get(rid)
    ctx.require(f"Microsoft.Network/{kind}/read", existing["id"] if existing else rid)
    group = common.resource_group(ctx.world, sub, ctx.params["rg"])
    if existing is None:
        raise errors.resource_not_found(f"Microsoft.Network/{kind}", ctx.params["name"], group["name"])
    return respond(200, existing)
