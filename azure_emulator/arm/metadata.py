"""``GET /metadata/endpoints``: the emulator described as a cloud, so SDKs and azure-cli/azure.azcollection can use
it as a custom cloud.

Field names: azure-cli ``cloud.py`` (``_arm_to_cli_mapper``) and azure-sdk-for-java ``MetadataEndpoint``. Shapes by
api-version [code]: 2022-09-01 and later answer this cloud as one object (azure-cli ``az cloud register``
``_populate_from_metadata_endpoint`` and go-azure-sdk ``getMetaDataFrom2022API`` both read an object from
``{endpoint}/metadata/endpoints?api-version=2022-09-01``); 2019-05-01 up to then answer a list of clouds (azure-cli
``_convert_arm_to_cli`` reads ``ARM_CLOUD_METADATA_URL``, documented with 2019-05-01, as a list); older versions one
object with the ``galleryEndpoint``/``graphEndpoint``/``portalEndpoint`` layout Azure Stack documents.
"""

from __future__ import annotations

from aiohttp import web

from .app import Ctx, respond


def _cloud(ctx: Ctx) -> dict:
    arm = ctx.context.arm_endpoint.rstrip("/") + "/"
    login = ctx.context.authority_host.rstrip("/") + "/"
    return {
        "portal": arm,
        "authentication": {
            "loginEndpoint": login,
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/", arm],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": "AzureEmulator",
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": arm,
        "vmImageAliasDoc": "",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        # azure-cli uses this both as Graph's base URL and as its token resource, so it names the emulator's Graph.
        "microsoftGraphResourceId": ctx.context.graph_endpoint.rstrip("/") + "/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        "ossrdbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        "gallery": "https://gallery.azure.com/",
    }


async def endpoints(ctx: Ctx) -> web.Response:
    cloud = _cloud(ctx)
    if ctx.api_version >= "2022-09-01":
        return respond(200, cloud)
    if ctx.api_version >= "2019-05-01":
        return respond(200, [cloud])
    return respond(200, {
        "galleryEndpoint": cloud["gallery"], "graphEndpoint": cloud["graph"], "portalEndpoint": cloud["portal"],
        "authentication": {"loginEndpoint": cloud["authentication"]["loginEndpoint"],
                           "audiences": cloud["authentication"]["audiences"]},
    })
