#!/usr/bin/env bash
# make bench: run every bench/*.py (each prints its own figures and ratios).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$root/.venv}
cd "$root"
shopt -s nullglob
scripts=(bench/*.py)
if [[ ${#scripts[@]} -eq 0 ]]; then
    echo "bench: no benchmarks yet (bench/*.py)"
    exit 0
fi
export ANSIBLE_COLLECTIONS_PATH="$venv/collections"
for script in "${scripts[@]}"; do
    echo "== $script"
    "$venv/bin/python" "$script"
done
