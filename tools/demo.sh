#!/usr/bin/env bash
# make demo: the end-to-end flow against the offline emulator. Placeholder until the roles and site.yml land
# (issue "Roles, site.yml and the demo" replaces this script).
set -euo pipefail

cat <<'PLAN'
demo: what `make demo` will do once the roles and playbooks exist
  1. start the offline Azure emulator (python -m azure_emulator) on loopback ports, seeded with the tutorial world
  2. run playbooks/site.yml against it:
     - enable_identity: turn on the system-assigned managed identity of the VM (and attach a user-assigned one)
     - grant_access:    give that identity a role (e.g. Reader) on the resource group
     - validate_access: on the VM, get a token from IMDS with managed_identity.azure.token_info and call ARM with it
  3. print the identity, the role assignment and the validation result, then stop the emulator
demo: nothing to run yet
PLAN
