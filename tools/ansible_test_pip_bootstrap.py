"""Make sure ansible-test can bootstrap pip in the virtual environments it creates.

ansible-test downloads ``get-pip-<version>.py`` from Ansible's CI file host into ``~/.ansible/test/cache`` the first
time it builds a venv. Where that host is unreachable (offline build machines with only a package registry) the run
stops. This script keeps the official path whenever it works and only otherwise writes a small stand-in with the same
contract: run as a module inside the new venv with ``--disable-pip-version-check pip==X --no-setuptools --no-wheel``,
it leaves pip X installed, using the standard library's bundled pip and the machine's pip configuration.

Run it with the Python that has ansible-core installed (``make setup`` does).
"""

from __future__ import annotations

import os
import sys
import types
import urllib.request
from pathlib import Path

DOWNLOAD_TIMEOUT = 10

STAND_IN = '''\
"""Stand-in for get-pip.py written by tools/ansible_test_pip_bootstrap.py (the official download was unreachable)."""

import ensurepip
import os
import subprocess
import sys

# ensurepip.bootstrap() sets PIP_CONFIG_FILE=/dev/null in this process; the second pip must see the machine's pip
# configuration (CA bundle, index), so it runs with the environment as it was before.
environ = dict(os.environ)
ensurepip.bootstrap(upgrade=True)
# --no-setuptools / --no-wheel are get-pip options, not pip install options.
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args], env=environ))
'''


def pip_version() -> str:
    """The pip version this ansible-test installs into its venvs (it may change with ansible-core)."""
    from ansible_test._internal.python_requirements import get_venv_packages

    python = types.SimpleNamespace(version="%d.%d" % sys.version_info[:2])
    return get_venv_packages(python)["pip"]


def main() -> int:
    version = pip_version()
    cache = Path(os.path.expanduser("~/.ansible/test/cache")) / ("get_pip_%s.py" % version.replace(".", "_"))
    if cache.exists():
        return 0
    cache.parent.mkdir(parents=True, exist_ok=True)
    url = "https://ci-files.testing.ansible.com/ansible-test/get-pip-%s.py" % version
    partial = cache.with_suffix(".download")
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:  # noqa: S310 - fixed https URL
            partial.write_bytes(response.read())
        partial.replace(cache)
        print("ansible-test pip bootstrap: downloaded %s to %s" % (url, cache))
    except OSError as exc:
        partial.unlink(missing_ok=True)
        cache.write_text(STAND_IN)
        print("ansible-test pip bootstrap: %s unreachable (%s); wrote the ensurepip stand-in to %s" % (url, exc, cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
