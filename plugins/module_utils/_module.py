# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin base for controller-side modules: shared auth options, a lazily built ARM client, and
failing from ``_errors.AzureError`` with a message that names the action.

Unlike a base class that runs the module from its constructor, this only wraps AnsibleModule:
a module's ``main()`` stays readable and its plumbing stays unit-testable.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, NoReturn, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.managed_identity.azure.plugins.module_utils import _arm, _authenticator
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_options import (
    AUTH_MUTUALLY_EXCLUSIVE,
    DEFAULT_MAX_WAIT,
    DEFAULT_TIMEOUT,
    auth_params,
    merge_argument_spec,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud, resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AzureError, ConfigurationError


def cloud_from_params(params: Mapping[str, Any], environ: Mapping[str, str]) -> Cloud:
    return resolve_cloud(
        params.get("cloud"),
        params.get("arm_endpoint"),
        params.get("authority_host") or environ.get("AZURE_AUTHORITY_HOST") or None,
        params.get("audience"),
    )


def client_from_params(
    params: Mapping[str, Any],
    environ: Optional[Mapping[str, str]] = None,
    warn: Any = None,
    cloud: Optional[Cloud] = None,
) -> _arm.ArmClient:
    """An ArmClient for the shared auth options (on ``cloud`` when given: another API, its audience); the credential
    and the client share one session."""
    env = os.environ if environ is None else environ
    cloud = cloud or cloud_from_params(params, env)
    session = _arm.build_session(params.get("ca_path"), env)
    credential = _authenticator.build_credential(auth_params(params), cloud, environ=env, session=session, warn=warn)
    return _arm.ArmClient(
        cloud,
        credential,
        session=session,
        timeout=float(params.get("timeout") or DEFAULT_TIMEOUT),
        max_wait=float(params["max_wait"]) if params.get("max_wait") is not None else DEFAULT_MAX_WAIT,
        user_agent=env.get("AZURE_HTTP_USER_AGENT") or None,
    )


class AzureModule:
    """AnsibleModule plus the shared auth options (see ``_auth_options``) and an ARM client."""

    def __init__(self, argument_spec: Dict[str, Any], **kwargs: Any) -> None:
        mutually_exclusive = list(kwargs.pop("mutually_exclusive", None) or []) + AUTH_MUTUALLY_EXCLUSIVE
        self.module = AnsibleModule(
            argument_spec=merge_argument_spec(argument_spec), mutually_exclusive=mutually_exclusive, **kwargs
        )
        self.params: Dict[str, Any] = self.module.params
        self._client: Optional[_arm.ArmClient] = None

    @property
    def check_mode(self) -> bool:
        return self.module.check_mode

    @property
    def client(self) -> _arm.ArmClient:
        """Built on first use; raises ConfigurationError for bad auth or cloud options."""
        if self._client is None:
            self._client = client_from_params(self.params, warn=self.module.warn)
        return self._client

    def subscription_id(self, required: bool = True) -> Optional[str]:
        """The ``subscription_id`` option, else AZURE_SUBSCRIPTION_ID; never guessed from what the caller can see."""
        value = self.params.get("subscription_id") or os.environ.get("AZURE_SUBSCRIPTION_ID") or None
        if required and not value:
            raise ConfigurationError(
                "subscription_id is required: set the subscription_id option (for example through "
                "module_defaults for group/managed_identity.azure.azure) or AZURE_SUBSCRIPTION_ID"
            )
        return value

    def fail(self, err: AzureError, action: Optional[str] = None, **result: Any) -> NoReturn:
        if action:
            err.with_action(action)
        kwargs = err.fail_kwargs()
        kwargs.update(result)
        self.module.fail_json(**kwargs)
        raise AssertionError("fail_json returned")  # pragma: no cover - fail_json exits

    def exit(self, **result: Any) -> NoReturn:
        self.module.exit_json(**result)
        raise AssertionError("exit_json returned")  # pragma: no cover - exit_json exits

    def warn(self, message: str) -> None:
        self.module.warn(message)
