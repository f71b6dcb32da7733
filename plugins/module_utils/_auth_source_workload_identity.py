# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``auth_source=workload_identity``: a federated token file (AKS workload identity, GitHub Actions OIDC, ...)
exchanged for an ARM token (tenant_id, client_id, federated_token_file or AZURE_TENANT_ID, AZURE_CLIENT_ID,
AZURE_FEDERATED_TOKEN_FILE, as azure-identity's WorkloadIdentityCredential reads them). The file is read again for
every new token, so a rotated file is picked up."""

from __future__ import annotations

from ansible_collections.managed_identity.azure.plugins.module_utils._entra_client_credential import EntraClientSource


class WorkloadIdentitySource(EntraClientSource):
    NAME = "workload_identity"
    KEY_OPTION = "federated_token_file"
