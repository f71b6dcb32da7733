# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud endpoints and custom clouds."""

from __future__ import annotations

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils._clouds import origin, resolve_cloud
from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError


@pytest.mark.parametrize(
    "name, arm, login, audience",
    [
        (
            "AzureCloud",
            "https://management.azure.com",
            "https://login.microsoftonline.com",
            "https://management.core.windows.net/",
        ),
        (
            "AzureChinaCloud",
            "https://management.chinacloudapi.cn",
            "https://login.chinacloudapi.cn",
            "https://management.core.chinacloudapi.cn/",
        ),
        (
            "AzureUSGovernment",
            "https://management.usgovcloudapi.net",
            "https://login.microsoftonline.us",
            "https://management.core.usgovcloudapi.net/",
        ),
    ],
)
def test_named_clouds(name, arm, login, audience):
    cloud = resolve_cloud(name)
    assert (cloud.arm_endpoint, cloud.authority_host, cloud.arm_audience) == (arm, login, audience)


def test_default_is_public_azure():
    assert resolve_cloud(None).name == "AzureCloud"


def test_custom_cloud_keeps_the_named_audience_unless_given():
    cloud = resolve_cloud(None, "https://127.0.0.1:8443/", "https://127.0.0.1:9443", None)
    assert cloud.name == "custom"
    assert cloud.arm_endpoint == "https://127.0.0.1:8443"
    assert cloud.authority_host == "https://127.0.0.1:9443"
    assert cloud.arm_audience == "https://management.core.windows.net/"
    assert resolve_cloud(None, "https://h", "https://l", "https://stack/").arm_audience == "https://stack/"


@pytest.mark.parametrize("bad", ["http://127.0.0.1:8443", "127.0.0.1:8443", "https://h/some/path", "https://h?x=1"])
def test_bad_endpoint_names_option_and_value(bad):
    with pytest.raises(ConfigurationError) as caught:
        resolve_cloud(None, bad, "https://login", None)
    assert "arm_endpoint=%r" % bad in str(caught.value)


def test_unknown_cloud_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="AzureChinaCloud, AzureCloud, AzureUSGovernment"):
        resolve_cloud("AzureGermanCloud")


def test_origin_fills_default_ports_and_lowercases():
    assert origin("https://Management.Azure.com/x") == ("https", "management.azure.com", 443)
    assert origin("https://management.azure.com:443/y?z") == origin("https://management.azure.com/")
    assert origin("http://management.azure.com/") != origin("https://management.azure.com/")
