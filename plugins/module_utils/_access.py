# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From the host itself: prove that its managed identity can read an ARM scope. Standard library only.

The host asks its own identity endpoint for a token, checks whose it is, and reads the scope through ARM with it.
The token lives only in this process: it goes to ARM and nowhere else, and only its non-secret claims are
returned. Runs on managed hosts, which need nothing but Python; one GET, no ARM client.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional
from urllib.parse import quote, urlencode

from ansible_collections.managed_identity.azure.plugins.module_utils import _http
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import (
    ArmError,
    ConfigurationError,
    NotFoundError,
    PermissionDenied,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._host_identity_endpoints import (
    DEFAULT_MAX_WAIT,
    DEFAULT_TIMEOUT,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._resource_ids import (
    RESOURCE_GROUPS_API_VERSION,
    resource_group_id,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._retry import (
    ARM_RETRY_STATUSES,
    RetryPolicy,
)

SUBSCRIPTION_API_VERSION = "2022-12-01"
# The permission a reader of the scope needs, named in the failure so the fix is obvious.
READ_PERMISSION = {
    "resource group": "Microsoft.Resources/subscriptions/resourceGroups/read",
    "subscription": "Microsoft.Resources/subscriptions/read",
}


class Scope:
    """What to read: a resource group (the tutorial's) or a whole subscription."""

    def __init__(self, subscription_id: str, resource_group: Optional[str] = None) -> None:
        if not subscription_id:
            raise ConfigurationError("subscription_id is empty and instance metadata gave none; set subscription_id.")
        self.subscription_id = subscription_id
        self.resource_group = resource_group or None

    @property
    def kind(self) -> str:
        return "resource group" if self.resource_group else "subscription"

    @property
    def path(self) -> str:
        if self.resource_group:
            return resource_group_id(quote(self.subscription_id, safe=""), quote(self.resource_group, safe=""))
        return "/subscriptions/%s" % quote(self.subscription_id, safe="")

    @property
    def api_version(self) -> str:
        return RESOURCE_GROUPS_API_VERSION if self.resource_group else SUBSCRIPTION_API_VERSION

    def __str__(self) -> str:
        if self.resource_group:
            return "resource group %r" % self.resource_group
        return "subscription %s" % self.subscription_id


def check_principal(claims: Mapping[str, Any], principal_id: Optional[str], source: str) -> None:
    """The token must be for the principal that was granted (a VM may have several identities)."""
    oid = str(claims.get("oid") or "")
    if principal_id and oid.lower() != principal_id.lower():
        raise ConfigurationError(
            "principal_id: the token from %s is for principal %s (%s), not %s, the principal that was granted "
            "access. If the host has several identities, select the granted one with client_id, object_id or "
            "msi_res_id." % (source, oid or "(no oid claim)", claims.get("xms_mirid") or "no xms_mirid", principal_id)
        )


def read_scope(
    cloud: Cloud,
    scope: Scope,
    access_token: str,
    *,
    principal: str,
    ca_path: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_wait: float = DEFAULT_MAX_WAIT,
    policy: Optional[RetryPolicy] = None,
) -> Dict[str, Any]:
    """GET the scope with the host's token; throttling (429), 5xx and broken connections are retried within
    ``max_wait``. A 403 is returned to the caller as PermissionDenied at once: waiting for RBAC to propagate is
    the caller's loop, where the user sees it."""
    url = "%s%s?%s" % (cloud.arm_endpoint, scope.path, urlencode({"api-version": scope.api_version}))
    action = "read %s with the managed identity of this host (principal %s)" % (scope, principal)
    policy = policy or RetryPolicy(max_wait, ARM_RETRY_STATUSES)
    headers = {"Authorization": "Bearer " + access_token, "Accept": "application/json"}
    try:
        response = _http.send(
            "GET", url, policy, headers=headers, timeout=(min(timeout, 10.0), timeout), ca_path=ca_path
        )
    except ValueError as exc:
        raise ConfigurationError("Cannot call ARM at %s: %s." % (cloud.arm_endpoint, exc)) from None
    except _http.TLSFailure as exc:
        raise ArmError("TLS failed with %s: %s" % (cloud.arm_endpoint, exc.reason), action=action) from None
    except _http.Unreachable as exc:
        raise ArmError(
            "could not connect to %s: %s. Check that the host can reach ARM (arm_endpoint, cloud)."
            % (cloud.arm_endpoint, exc.reason),
            action=action,
        ) from None
    except _http.Interrupted as exc:
        text = "%s did not answer within timeout %s s per attempt" % (cloud.arm_endpoint, timeout)
        if not isinstance(exc, _http.TimedOut):
            text = "no answer from %s" % cloud.arm_endpoint
        raise ArmError("%s (%s): %s." % (text, exc.reason, policy.summary()), action=action) from None
    if response.status_code == 200:
        return _json(response) or {}
    error = _error(response, scope, principal, action)
    if response.status_code in policy.retry_statuses:
        error.message = "%s Gave up after %s." % (error.message.rstrip(), policy.summary())
    raise error


def _error(response: _http.Response, scope: Scope, principal: str, action: str) -> ArmError:
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    code, message = error.get("code"), error.get("message") or response.text.strip()[:300] or "no error body"
    status = response.status_code
    if status == 403:
        message += (
            " Assign a role with %s (Reader, for example) to principal %s on the %s or above; a new assignment can "
            "take up to 10 minutes to reach ARM." % (READ_PERMISSION[scope.kind], principal, scope.kind)
        )
    cls = NotFoundError if status == 404 else PermissionDenied if status == 403 else ArmError
    return cls(
        message,
        status=status,
        code=code,
        request_id=response.headers.get("x-ms-request-id"),
        correlation_id=response.headers.get("x-ms-correlation-request-id"),
        action=action,
    )


def _json(response: _http.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
