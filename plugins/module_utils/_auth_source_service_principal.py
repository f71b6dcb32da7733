# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``auth_source=service_principal``: an app registration's client secret (tenant_id, client_id, client_secret or
AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, as azure-identity's EnvironmentCredential reads them)."""

from __future__ import annotations

from ansible_collections.managed_identity.azure.plugins.module_utils._entra_client_credential import EntraClientSource


class ServicePrincipalSource(EntraClientSource):
    NAME = "service_principal"
    KEY_OPTION = "client_secret"
