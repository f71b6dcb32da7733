"""Resources (audiences) the emulated Entra ID and managed-identity endpoints issue tokens for."""

from __future__ import annotations

# ARM accepts exactly these audiences (text of Azure's InvalidAuthenticationTokenAudience error).
ARM_AUDIENCES = ("https://management.core.windows.net/", "https://management.core.windows.net",
                 "https://management.azure.com/", "https://management.azure.com")
ARM_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"   # "Windows Azure Service Management API"

# Other first-party resources a managed identity commonly asks for; tokens for them are issued but nothing here
# serves them.
OTHER_RESOURCES = ("https://vault.azure.net", "https://storage.azure.com", "https://graph.microsoft.com",
                   "https://database.windows.net", "https://management.core.windows.net/",
                   "https://ossrdbms-aad.database.windows.net", "https://cognitiveservices.azure.com",
                   "https://eventhubs.azure.net", "https://servicebus.azure.net", "https://monitor.azure.com",
                   "https://graph.windows.net", "api://AzureADTokenExchange")


# Microsoft Graph: its app id and resource URI (tokens for it carry the caller's application permissions in
# ``roles``, entra-docs access-token-claims-reference.md).
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_RESOURCE = "https://graph.microsoft.com"


def known_resource(resource: str, *endpoints: str) -> bool:
    """True when Entra ID knows a resource by this URI (trailing slash ignored) or app id; ``endpoints`` are the
    emulator's own service URLs (ARM, Graph), which a custom cloud uses as resource URIs."""
    wanted = resource.strip().rstrip("/").lower()
    if not wanted:
        return False
    if wanted in (ARM_APP_ID, GRAPH_APP_ID):
        return True
    candidates = {a.rstrip("/").lower() for a in ARM_AUDIENCES + OTHER_RESOURCES}
    candidates.update(e.rstrip("/").lower() for e in endpoints if e)
    return wanted in candidates


def is_graph_audience(audience: str, graph_endpoint: str = "") -> bool:
    """Graph's URI or app id, or the emulator's own Graph URL (azure-cli's custom cloud uses its Graph URL as the
    resource), trailing slash ignored."""
    wanted = audience.strip().rstrip("/").lower()
    own = graph_endpoint.rstrip("/").lower()
    return wanted in (GRAPH_RESOURCE, GRAPH_APP_ID) or (bool(own) and wanted == own)


def token_audience(resource: str) -> str:
    """``aud`` of a v1 token: the resource as requested, and ARM's URI for ARM's app id."""
    return "https://management.core.windows.net/" if resource.lower() == ARM_APP_ID else resource
