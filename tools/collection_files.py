"""List the files of the collection as it ships: the candidates minus galaxy.yml's build_ignore.

Usage: collection_files.py ROOT < NUL-separated relative paths > NUL-separated relative paths
A summary of what was left out goes to stderr. Patterns match like ansible-galaxy's build: fnmatch against the path
of the file or of any directory above it, plus ansible-galaxy's own defaults.
"""

from __future__ import annotations

import collections
import fnmatch
import sys
from pathlib import Path

import yaml

# ansible-galaxy ignores these whatever galaxy.yml says (ansible/galaxy/collection/__init__.py).
GALAXY_DEFAULTS = ["galaxy.yaml", ".git", "*.pyc", "*.retry", "tests/output", "*/__pycache__", "__pycache__"]
# galaxy.yml itself is not in the artifact (it becomes MANIFEST.json) but ansible-test needs it.
KEEP = {"galaxy.yml"}


def ignored(path: str, patterns: list) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns)


def main() -> int:
    root = Path(sys.argv[1])
    galaxy = yaml.safe_load((root / "galaxy.yml").read_text(encoding="utf-8"))
    patterns = GALAXY_DEFAULTS + list(galaxy.get("build_ignore") or [])
    left_out = collections.Counter()
    kept = []
    for path in filter(None, sys.stdin.buffer.read().decode("utf-8").split("\0")):
        if path not in KEEP and ignored(path, patterns):
            parts = path.split("/")
            left_out["/".join(parts[:2] if parts[0] == "tests" and len(parts) > 2 else parts[:1])] += 1
        else:
            kept.append(path)
    sys.stdout.buffer.write("".join(p + "\0" for p in kept).encode("utf-8"))
    summary = ", ".join("%s (%d)" % (name, count) for name, count in sorted(left_out.items()))
    print("not shipped, so not sanity-tested (ruff still lints them): %s" % (summary or "nothing"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
