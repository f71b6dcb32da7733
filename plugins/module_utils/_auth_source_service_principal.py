# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``auth_source=service_principal``: an app registration's client secret (tenant_id, client_id, client_secret or
AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, as azure-identity's EnvironmentCredential reads them)."""

from __future__ import annotations

from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import AuthSource, Credential
from ansible_collections.managed_identity.azure.plugins.module_utils._entra_client_credential import (
    EntraClientCredential,
)


class ServicePrincipalSource(AuthSource):
    NAME = "service_principal"

    def credential(self) -> Credential:
        tenant_id = self.option("tenant_id")
        client_id = self.option("client_id")
        secret = self.option("client_secret")
        if self.context.auto and not secret:
            raise self.not_set("client_secret")
        self.require(tenant_id=tenant_id, client_id=client_id, client_secret=secret)
        return EntraClientCredential(
            self.context.cloud,
            str(tenant_id),
            str(client_id),
            client_secret=secret,
            session=self.context.session,
            timeout=self.context.timeout,
            max_wait=self.context.max_wait,
            cache=self.context.cache,
        )
