#!/usr/bin/env bash
# One-command, idempotent development set-up (make setup):
#   - .venv with the pinned tools of requirements-dev.txt (reinstalled only when that file or the Python changes),
#   - .venv/collections/ansible_collections/managed_identity/azure -> this checkout, so ansible-playbook, ansible-doc
#     and Python imports see the code being edited (ANSIBLE_COLLECTIONS_PATH=.venv/collections),
#   - ansible-test's pip bootstrap script, when it is missing and cannot be downloaded.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$root/.venv}
python=${PYTHON:-$(command -v python3.11 || command -v python3)}

if [[ ! -x $venv/bin/python ]]; then
    echo "setup: creating $venv with $("$python" --version)"
    "$python" -m venv "$venv"
fi

stamp=$venv/.requirements-dev.sha256
want=$({ sha256sum "$root/requirements-dev.txt"; "$venv/bin/python" -VV; } | sha256sum | cut -d' ' -f1)
if [[ $(cat "$stamp" 2>/dev/null || true) != "$want" ]]; then
    echo "setup: installing requirements-dev.txt into $venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$root/requirements-dev.txt"
    echo "$want" >"$stamp"
else
    echo "setup: $venv is up to date with requirements-dev.txt"
fi

link=$venv/collections/ansible_collections/managed_identity/azure
mkdir -p "$(dirname "$link")"
if [[ $(readlink "$link" 2>/dev/null || true) != "$root" ]]; then
    ln -sfn "$root" "$link"
fi
echo "setup: managed_identity.azure -> $root (ANSIBLE_COLLECTIONS_PATH=$venv/collections)"

# The emulator is a development tool, not a package: a .pth file puts a directory holding only a link to it on the
# venv's path (not the repository root, whose tests/ and plugins/ would shadow other packages), and a small script
# runs it as a command.
emulator_path=$venv/emulator-path
mkdir -p "$emulator_path"
if [[ $(readlink "$emulator_path/azure_emulator" 2>/dev/null || true) != "$root/azure_emulator" ]]; then
    ln -sfn "$root/azure_emulator" "$emulator_path/azure_emulator"
fi
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$emulator_path" >"$site/azure_emulator.pth"
printf '#!/bin/sh\n# Written by tools/setup.sh: the offline Azure emulator (azure_emulator/README.md).\nexec "%s" -m azure_emulator "$@"\n' \
    "$venv/bin/python" >"$venv/bin/azure-emulator"
chmod 0755 "$venv/bin/azure-emulator"
echo "setup: azure-emulator and python -m azure_emulator (any directory) -> $root/azure_emulator"

"$venv/bin/python" "$root/tools/ansible_test_pip_bootstrap.py"
