"""ARM's error envelope and the error bodies the emulator returns, with their sources.

Envelope: ``{"error": {"code", "message", "target"?, "details"?}}`` (azure-docs async-operations.md).
"""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """Raised by handlers; rendered by the app as Azure's error envelope."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                 target: str | None = None, details: list[dict] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.target = target
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def missing_api_version() -> ArmError:
    # Observed verbatim from management.azure.com (MicrosoftDocs/feedback#2279, cloudquery#6626).
    return ArmError(400, "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.")


def invalid_api_version(version: str, supported: tuple[str, ...]) -> ArmError:
    # Microsoft.Resources' wording (ansible-collections/azure#188, azure-cli#28038): versions joined by "," only.
    return ArmError(400, "InvalidApiVersionParameter",
                    f"The api-version '{version}' is invalid. The supported versions are '{','.join(supported)}'.")


def no_registered_provider(location: str, version: str, type_name: str, supported: tuple[str, ...],
                           locations: tuple[str, ...]) -> ArmError:
    # Resource providers' wording (azure-cli#28496, pulumi-azure-nextgen#170): versions joined by ", ".
    return ArmError(400, "NoRegisteredProviderFound",
                    f"No registered resource provider found for location '{location}' and API version '{version}' "
                    f"for type '{type_name}'. The supported api-versions are '{', '.join(supported)}'. "
                    f"The supported locations are '{', '.join(locations)}'.")


def subscription_not_found(subscription_id: str) -> ArmError:
    return ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.")


def resource_group_not_found(name: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def resource_not_found(type_name: str, name: str, resource_group: str) -> ArmError:
    # Observed in Azure CLI output (azure-reference examples/arm-error-ResourceNotFound-404.observed.json).
    return ArmError(404, "ResourceNotFound",
                    f"The Resource '{type_name}/{name}' under resource group '{resource_group}' was not found. "
                    "For more details please go to https://aka.ms/ARMResourceNotFoundFix")


def authorization_failed(client_id: str, object_id: str, action: str, scope: str, *, abac: bool = False) -> ArmError:
    # troubleshooting.md template plus the sentence real responses carry (examples/arm-error-AuthorizationFailed);
    # when only a role assignment condition stood in the way, the text says so (troubleshooting.md, ABAC variant).
    denial = "does not have authorization or an ABAC condition not fulfilled" if abac else \
        "does not have authorization"
    return ArmError(403, "AuthorizationFailed",
                    f"The client '{client_id}' with object id '{object_id}' {denial} to perform "
                    f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
                    "please refresh your credentials.")


def linked_authorization_failed(client_id: str, object_id: str, action: str, scope: str, linked_action: str,
                                linked_scopes: list[str]) -> ArmError:
    # Observed (Azure/aad-pod-identity#443, #613, #339): several linked scopes are joined by ",".
    return ArmError(403, "LinkedAuthorizationFailed",
                    f"The client '{client_id}' with object id '{object_id}' has permission to perform action "
                    f"'{action}' on scope '{scope}'; however, it does not have permission to perform action "
                    f"'{linked_action}' on the linked scope(s) '{','.join(linked_scopes)}' or the linked scope(s) "
                    "are invalid.")


def identity_operation_failed(resource_id: str, inner_message: str) -> ArmError:
    # The managed-identity service's answer relayed by ARM (Azure/azure-policy#1311, azure-rest-api-specs#17650).
    inner = '{"error":{"code":"BadRequest","message":"' + inner_message.replace('"', '\\"') + '"}}'
    return ArmError(400, "FailedIdentityOperation",
                    f"Identity operation for resource '{resource_id}' failed with error 'Failed to perform resource "
                    f"identity operation. Status: 'BadRequest'. Response: '{inner}'.'.")


def precondition_failed(if_match: str, etag: str) -> ArmError:
    # Compute's wording (kubernetes-sigs/cloud-provider-azure#9728).
    return ArmError(412, "PreconditionFailed",
                    f"Etag provided in if-match header {if_match} does not match etag {etag} of resource.")


def invalid_request_content(message: str) -> ArmError:
    return ArmError(400, "InvalidRequestContent", message)
