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


def known_resource(resource: str, arm_endpoint: str) -> bool:
    """True when Entra ID knows a resource by this URI (trailing slash ignored) or app id."""
    wanted = resource.strip().rstrip("/").lower()
    if not wanted:
        return False
    if wanted == ARM_APP_ID:
        return True
    candidates = {a.rstrip("/").lower() for a in ARM_AUDIENCES + OTHER_RESOURCES}
    candidates.add(arm_endpoint.rstrip("/").lower())
    return wanted in candidates


def token_audience(resource: str) -> str:
    """``aud`` of a v1 token: the resource as requested, and ARM's URI for ARM's app id."""
    return "https://management.core.windows.net/" if resource.lower() == ARM_APP_ID else resource
