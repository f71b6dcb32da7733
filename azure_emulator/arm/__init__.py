"""Azure Resource Manager over HTTPS: subscriptions, resource groups, VMs and scale sets, their network interfaces and
public IP addresses, user-assigned identities,
role definitions and assignments, permissions, ``/metadata/endpoints``; every request authenticated and authorized
by RBAC (see ``app.py`` for routing, ``auth.py``, ``../rbac.py``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import authorization, compute, groups, identities, metadata, network
from .app import ArmApp, Route

if TYPE_CHECKING:
    from ..context import AppContext

SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = SUB + r"/resourceGroups/(?P<rg>[^/]+)"
SCOPE = r"(?P<scope>(?:/subscriptions/[^/]+(?:/.+?)?|/providers/Microsoft\.Management/managementGroups/[^/]+)?)"
KIND = r"(?P<kind>virtualMachines|virtualMachineScaleSets)"
NET_KIND = r"(?P<kind>networkInterfaces|publicIPAddresses)"
AUTH = r"/providers/Microsoft\.Authorization"


def _route(name: str, methods: str, regex: str, handler: Any, version_type: str | None = None,
           authenticated: bool = True) -> Route:
    return Route(name, frozenset(methods.split()), re.compile(regex, re.IGNORECASE), handler, version_type,
                 authenticated)


ROUTES = [
    _route("/metadata/endpoints", "GET", r"/metadata/endpoints", metadata.endpoints, "metadata",
           authenticated=False),
    _route("/subscriptions", "GET", r"/subscriptions", groups.list_subscriptions, "subscriptions"),
    _route("/subscriptions/{sub}", "GET", SUB, groups.get_subscription, "subscriptions"),
    _route("/subscriptions/{sub}/resourcegroups", "GET", SUB + r"/resourceGroups", groups.list_groups,
           "resourceGroups"),
    _route("/subscriptions/{sub}/resourcegroups/{rg}", "GET HEAD PUT PATCH DELETE", RG, groups.resource_group,
           "resourceGroups"),
    _route("/subscriptions/{sub}/operationresults/{id}", "GET", SUB + r"/operationresults/(?P<token>[^/]+)",
           groups.operation_result),
    _route("/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{id}", "GET",
           SUB + r"/providers/Microsoft\.Compute/locations/(?P<loc>[^/]+)/operations/(?P<op>[^/]+)",
           compute.operation),
    _route("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/{kind}", "GET",
           RG + r"/providers/Microsoft\.Compute/" + KIND, compute.list_in_group),
    _route("/subscriptions/{sub}/providers/Microsoft.Compute/{kind}", "GET",
           SUB + r"/providers/Microsoft\.Compute/" + KIND, compute.list_in_subscription),
    _route("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/{kind}/{name}",
           "GET PUT PATCH DELETE", RG + r"/providers/Microsoft\.Compute/" + KIND + r"/(?P<name>[^/]+)",
           compute.machine),
    _route("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}/instanceView",
           "GET", RG + r"/providers/Microsoft\.Compute/virtualMachines/(?P<name>[^/]+)/instanceView",
           compute.instance_view),
    _route("/subscriptions/{sub}/providers/Microsoft.Network/{kind}", "GET",
           SUB + r"/providers/Microsoft\.Network/" + NET_KIND, network.list_in_subscription),
    _route("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/{kind}", "GET",
           RG + r"/providers/Microsoft\.Network/" + NET_KIND, network.list_in_group),
    _route("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/{kind}/{name}", "GET",
           RG + r"/providers/Microsoft\.Network/" + NET_KIND + r"/(?P<name>[^/]+)", network.get),
    _route("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
           "GET", RG + r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities", identities.list_in_group),
    _route("/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities", "GET",
           SUB + r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities", identities.list_in_subscription),
    _route("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
           "{name}", "GET PUT PATCH DELETE",
           RG + r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>[^/]+)", identities.identity),
    _route("/{scope}/providers/Microsoft.ManagedIdentity/identities/default", "GET",
           r"(?P<scope>/subscriptions/.+)/providers/Microsoft\.ManagedIdentity/identities/default",
           identities.system_identity),
    _route("/{scope}/providers/Microsoft.Authorization/roleDefinitions", "GET", SCOPE + AUTH + r"/roleDefinitions",
           authorization.list_definitions, "roleDefinitions"),
    _route("/{scope}/providers/Microsoft.Authorization/roleDefinitions/{id}", "GET",
           SCOPE + AUTH + r"/roleDefinitions/(?P<name>[^/]+)", authorization.get_definition, "roleDefinitions"),
    _route("/{scope}/providers/Microsoft.Authorization/roleAssignments", "GET", SCOPE + AUTH + r"/roleAssignments",
           authorization.list_assignments, "roleAssignments"),
    _route("/{scope}/providers/Microsoft.Authorization/roleAssignments/{id}", "GET PUT DELETE",
           SCOPE + AUTH + r"/roleAssignments/(?P<name>[^/]+)", authorization.assignment, "roleAssignments"),
    _route("/{scope}/providers/Microsoft.Authorization/permissions", "GET", SCOPE + AUTH + r"/permissions",
           authorization.permissions, "permissions"),
]


def make_app(context: AppContext) -> web.Application:
    """The ARM aiohttp application over ``context``'s world, verifying tokens with its issuer."""
    arm = ArmApp(context, ROUTES)
    arm.compute_ops = compute.Operations()
    # The Emulator adds middleware.middleware (counters, faults, throttling) to every app it serves.
    app = web.Application()
    app["arm"] = arm
    app.router.add_route("*", "/{tail:.*}", arm.handle)
    # Every answer gets ARM's headers (request ID, correlation ID, ...), also the 429s and injected faults that the
    # middleware answers before the app: ARM's front door stamps them on whatever it returns.
    app.on_response_prepare.append(arm.decorate)
    return app
