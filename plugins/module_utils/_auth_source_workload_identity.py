# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``auth_source=workload_identity``: a federated token file (AKS workload identity, GitHub Actions OIDC, ...)
exchanged for an ARM token (tenant_id, client_id, federated_token_file or AZURE_TENANT_ID, AZURE_CLIENT_ID,
AZURE_FEDERATED_TOKEN_FILE, as azure-identity's WorkloadIdentityCredential reads them)."""

from __future__ import annotations

from ansible_collections.managed_identity.azure.plugins.module_utils._auth_source_base import AuthSource, Credential
from ansible_collections.managed_identity.azure.plugins.module_utils._entra_client_credential import (
    EntraClientCredential,
)


class WorkloadIdentitySource(AuthSource):
    NAME = "workload_identity"

    def credential(self) -> Credential:
        tenant_id = self.option("tenant_id")
        client_id = self.option("client_id")
        token_file = self.option("federated_token_file")
        if self.context.auto and not token_file:
            raise self.not_set("federated_token_file")
        self.require(tenant_id=tenant_id, client_id=client_id, federated_token_file=token_file)
        return EntraClientCredential(
            self.context.cloud,
            str(tenant_id),
            str(client_id),
            federated_token_file=token_file,
            session=self.context.session,
            timeout=self.context.timeout,
            max_wait=self.context.max_wait,
            cache=self.context.cache,
        )
