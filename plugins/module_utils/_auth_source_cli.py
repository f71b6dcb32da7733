# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``auth_source=cli``: ``az account get-access-token``, whoever is logged in to the Azure CLI on this host
(tenant_id or AZURE_TENANT_ID picks the tenant). The Azure CLI keeps its own token cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from datetime import datetime
from typing import Any, Callable, Mapping, Optional

from ansible_collections.managed_identity.azure.plugins.module_utils._auth_options import DEFAULT_TIMEOUT
from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import (
    AccessToken,
    AuthSource,
    CachingCredential,
    Credential,
    CredentialUnavailable,
    jwt_expiry,
)
from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import Cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import AuthenticationError


class AzureCliCredential(CachingCredential):
    """``az account get-access-token``: whoever is logged in to Azure CLI on this host."""

    name = "cli"

    def __init__(
        self,
        cloud: Cloud,
        *,
        tenant_id: Optional[str] = None,
        environ: Mapping[str, str],
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock)
        self.cloud = cloud
        self.tenant_id = tenant_id
        self._environ = environ
        self._timeout = timeout
        self.description = "Azure CLI login" + (" in tenant %s" % tenant_id if tenant_id else "")

    def _fetch(self) -> AccessToken:
        az = shutil.which("az", path=self._environ.get("PATH", os.defpath))
        if not az:
            raise CredentialUnavailable("Azure CLI (az) is not on PATH", step="use the Azure CLI login")
        argv = [az, "account", "get-access-token", "--resource", self.cloud.arm_audience, "--output", "json"]
        if self.tenant_id:
            argv += ["--tenant", self.tenant_id]
        action = "get a token from the Azure CLI (%s)" % " ".join(argv[1:])
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                argv, capture_output=True, text=True, timeout=self._timeout, env=dict(self._environ), check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AuthenticationError("az did not answer (%s)" % exc.__class__.__name__, step=action) from None
        if done.returncode != 0:
            detail = " ".join((done.stderr or "").split()) or "exit status %d" % done.returncode
            raise AuthenticationError(
                "%s (run 'az login' on the controller, or choose another auth_source)" % detail[:500], step=action
            )
        try:
            answer = json.loads(done.stdout)
            token = answer["accessToken"]
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError("az printed no accessToken in JSON", step=action) from None
        return AccessToken(token, self._expiry(answer, token))

    @staticmethod
    def _expiry(answer: Mapping[str, Any], token: str) -> int:
        # Azure CLI >= 2.54 prints expires_on (epoch); older ones only expiresOn in local time.
        if answer.get("expires_on"):
            try:
                return int(answer["expires_on"])
            except (TypeError, ValueError):
                pass
        if answer.get("expiresOn"):
            try:
                return int(datetime.strptime(answer["expiresOn"][:19], "%Y-%m-%d %H:%M:%S").timestamp())
            except ValueError:
                pass
        return jwt_expiry(token)


class CliSource(AuthSource):
    NAME = "cli"

    def credential(self) -> Credential:
        return AzureCliCredential(
            self.context.cloud,
            tenant_id=self.option("tenant_id"),
            environ=self.context.environ,
            timeout=self.context.timeout,
        )
