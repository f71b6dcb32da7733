# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception family for everything that can go wrong talking to Azure.

Modules catch ``AzureError`` only; anything else is a bug and should surface as one.
Messages never carry secrets (tokens, client secrets, federated tokens): callers build
them from IDs, status codes and Azure's own error text only.
"""

from __future__ import annotations

from typing import Any, Dict, Optional


class AzureError(Exception):
    """Base error: what failed, Azure's status/code/message, and the IDs support asks for."""

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        request_id: Optional[str] = None,
        correlation_id: Optional[str] = None,
        action: Optional[str] = None,
        step: Optional[str] = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.correlation_id = correlation_id
        self.action = action  # what the task was doing, in the user's terms ("update the identity of ...")
        self.step = step  # the call that failed on the way ("PATCH /subscriptions/...", "authenticate to Azure")
        self.body = body

    def __str__(self) -> str:
        parts = []
        lead = self.action or self.step
        if lead:
            parts.append("Failed to %s" % lead)
        detail = []
        if self.status is not None:
            detail.append("HTTP %s" % self.status)
        if self.code:
            detail.append(self.code)
        head = ": ".join(parts)
        if detail:
            head = "%s (%s)" % (head, ", ".join(detail)) if head else ", ".join(detail)
        text = "%s: %s" % (head, self.message) if head else self.message
        ids = []
        if self.action and self.step:
            ids.append(self.step)
        if self.request_id:
            ids.append("request id %s" % self.request_id)
        if self.correlation_id and self.correlation_id != self.request_id:
            ids.append("correlation id %s" % self.correlation_id)
        if ids:
            text = "%s [%s]" % (text, ", ".join(ids))
        return text

    def with_action(self, action: str) -> AzureError:
        """Name what the task was doing on an error raised deeper down, unless a caller nearer the user already did
        (the call that failed stays in ``step``)."""
        if not self.action:
            self.action = action
        return self

    def fail_kwargs(self) -> Dict[str, Any]:
        """Keyword arguments for ``AnsibleModule.fail_json``: the message and the non-secret facts."""
        result: Dict[str, Any] = {"msg": str(self)}
        if self.status is not None:
            result["status_code"] = self.status
        if self.code:
            result["error_code"] = self.code
        if self.request_id:
            result["request_id"] = self.request_id
        if self.correlation_id:
            result["correlation_id"] = self.correlation_id
        return result


class ConfigurationError(AzureError):
    """Bad or missing options: names the option, the value and the fix. Nothing was changed."""


class IdentityError(AzureError):
    """A managed identity endpoint (IMDS, App Service, Arc, ...) refused or failed."""


class EndpointUnreachable(IdentityError):
    """No answer at all from an identity endpoint (not an Azure host, or no identity service)."""


class AuthenticationError(AzureError):
    """Entra ID refused the operator's credentials, or no credential source worked."""


class ArmError(AzureError):
    """Azure Resource Manager answered with an error."""


class NotFoundError(ArmError):
    """ARM 404 (ResourceNotFound, ResourceGroupNotFound, ...)."""


class PermissionDenied(ArmError):
    """ARM 403 (AuthorizationFailed, LinkedAuthorizationFailed, ...)."""
