# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The attributes of this collection's modules, one fragment per attribute value. A module adds its own
    # ``details`` under ``attributes`` where its behaviour needs more words.

    CHECK_MODE_FULL = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode, changing nothing in Azure and reporting what would change.
    support: full
"""

    DIFF_MODE_FULL = r"""
options: {}
attributes:
  diff_mode:
    description: Returns the state before and after the change (predicted, in check mode) in diff mode.
    support: full
"""

    DIFF_MODE_NONE = r"""
options: {}
attributes:
  diff_mode:
    description: Returns no diff; the module changes nothing.
    support: none
"""

    DIFF_MODE_NA = r"""
options: {}
attributes:
  diff_mode:
    description: Not applicable; the module only reads.
    support: N/A
"""

    # The group is defined in meta/runtime.yml (action_groups: azure).
    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: C(module_defaults) for C(group/managed_identity.azure.azure) sets the shared auth options once.
    support: full
    membership:
      - managed_identity.azure.azure
"""
