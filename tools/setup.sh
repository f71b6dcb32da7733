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

"$venv/bin/python" "$root/tools/ansible_test_pip_bootstrap.py"
