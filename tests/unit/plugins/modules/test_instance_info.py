# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""instance_info runs as a module against a local fake IMDS (``imds`` in conftest.py)."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.managed_identity.azure.plugins.modules import instance_info


def run(args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit):
        instance_info.main()
    return json.loads(capsys.readouterr().out)


def test_instance_info(imds, capsys):
    compute = {
        "subscriptionId": "8d10da13-8125-4ba9-a717-bf7490507b3d",
        "resourceGroupName": "rg",
        "name": "vm1",
        "vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6",
        "location": "westus",
        "azEnvironment": "AzurePublicCloud",
        "osType": "Linux",
        "resourceId": "/subscriptions/8d10da13-8125-4ba9-a717-bf7490507b3d/resourceGroups/rg/"
        "providers/Microsoft.Compute/virtualMachines/vm1",
        "vmSize": "Standard_B2s",
        "tagsList": [],
    }
    imds["answers"] += [(410, {}), (200, {"compute": compute, "network": {}})]
    result = run({"endpoint": imds["url"], "max_wait": 5}, capsys)
    assert result["subscription_id"] == compute["subscriptionId"]
    assert result["resource_group"] == "rg" and result["name"] == "vm1" and result["vm_id"] == compute["vmId"]
    assert result["resource_id"] == compute["resourceId"]
    assert result["az_environment"] == "AzurePublicCloud" and result["os_type"] == "Linux"
    assert len(imds["requests"]) == 2  # the 410 was retried
    assert imds["requests"][1]["query"]["api-version"] == ["2021-02-01"]


def test_instance_info_error_names_the_action(imds, capsys):
    imds["answers"].append((400, {"error": "Bad request. Required metadata header not specified"}))
    result = run({"endpoint": imds["url"]}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to read the instance metadata (HTTP 400")


def test_instance_info_asks_imds_as_imds_requires(imds, capsys):
    imds["answers"].append((200, {"compute": {"subscriptionId": "s", "resourceGroupName": "rg", "name": "vm1"}}))
    run({"endpoint": imds["url"]}, capsys)
    (request,) = imds["requests"]
    assert request["path"] == "/metadata/instance"
    assert request["headers"]["Metadata"] == "true"
    # IMDS refuses proxied requests (instance-metadata-service.md), so nothing may look like one.
    assert not {"X-Forwarded-For", "Forwarded"} & set(request["headers"])
