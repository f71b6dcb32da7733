# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM naming written once: the ID of a resource group, the Microsoft.Resources API version resource groups are
read with, and the comparison form of a location name."""

from __future__ import annotations

from typing import Any

# Microsoft.Resources resourceGroups: GET returns id, name, location, properties.provisioningState and tags.
RESOURCE_GROUPS_API_VERSION = "2021-04-01"


def resource_group_id(subscription_id: str, resource_group: str) -> str:
    """``/subscriptions/<id>/resourceGroups/<name>``: the ID, the scope of a grant, and the prefix of its resources."""
    return "/subscriptions/%s/resourceGroups/%s" % (subscription_id, resource_group)


def location_key(name: Any) -> str:
    """ARM location names are lower case without spaces ("westeurope"); users also write "West Europe"."""
    return str(name or "").replace(" ", "").lower()
