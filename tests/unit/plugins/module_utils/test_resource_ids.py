# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM naming written once: resource group IDs as ARM spells them, and location names as users write them."""

from __future__ import annotations

import pytest

from ansible_collections.managed_identity.azure.plugins.module_utils._resource_ids import (
    location_key,
    resource_group_id,
)


def test_resource_group_id_is_spelled_as_arm_returns_it():
    assert resource_group_id("sub-1", "rg-web") == "/subscriptions/sub-1/resourceGroups/rg-web"


@pytest.mark.parametrize("written", ["West Europe", "westeurope", "WestEurope", " west europe "])
def test_a_location_written_any_way_azure_accepts_compares_equal(written):
    assert location_key(written) == "westeurope"


def test_no_location_compares_as_empty():
    assert location_key(None) == ""
