"""RBAC action patterns: ``Microsoft.Compute/*/read`` against ``Microsoft.Compute/virtualMachines/read``.

Used by role evaluation (``rbac.py``) and by the ``ActionMatches{...}`` target of conditions (``conditions.py``, which
``rbac.py`` imports): a module of its own keeps the two out of an import cycle.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def _pattern(action_pattern: str) -> re.Pattern[str]:
    regex = re.escape(action_pattern).replace(r"\*", ".*")
    # "a/*/b" also matches "a/b": the wildcard may stand for zero segments.
    regex = regex.replace("/.*/", "/(?:.*/)?")
    return re.compile(regex, re.IGNORECASE)


def action_matches(action_pattern: str, action: str) -> bool:
    return _pattern(action_pattern).fullmatch(action) is not None
