# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's version, for the User-Agent (module_utils cannot read galaxy.yml at run time)."""

from __future__ import annotations

# Kept equal to galaxy.yml's version by tests/unit/plugins/module_utils/test_version.py.
COLLECTION_VERSION = "0.1.0"
COLLECTION_NAME = "managed_identity.azure"
