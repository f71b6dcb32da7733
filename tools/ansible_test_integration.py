#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ``ansible-test integration`` (tests/integration/targets/) against an emulator started for the run.

Like tools/sanity.sh, the collection is copied to a fresh ``.../ansible_collections/managed_identity/azure/`` (a real
directory path, which ansible-test requires), here with the integration targets, which do not ship. Then:

1. the emulator starts with the RBAC test world (tests/integration/playbooks/rbac/seed.yaml) on loopback;
2. ``tests/integration/integration_config.yml`` is written into the copy from its ready JSON: endpoints, CA bundle,
   tenant, subscription, the operator's credentials (``azure_auth``, for ``module_defaults`` of the action group) and
   the IDs the targets need. ansible-test hands that file to every target as variables, as Azure collections do with
   their cloud configuration. It holds a client secret: mode 0600, inside the temporary directory, removed at the end;
3. ``ansible-test integration --local`` runs every target (or those named in the arguments) with the venv's Python
   and Ansible: no pip bootstrap and no network are needed;
4. the emulator is stopped and the copy removed, whatever happened.

Usage: tools/ansible_test_integration.py [ansible-test integration arguments, e.g. a target name or -v]
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("VENV") or ROOT / ".venv")
SEED = ROOT / "tests" / "integration" / "playbooks" / "rbac" / "seed.yaml"
TARGETS = "tests/integration/targets/"
RESOURCE_GROUP = "rbac-rg"
VM = "vm-two"
IDENTITY, SPARE = "id-one", "id-spare"


def collection_files() -> List[str]:
    """The collection as it ships (tools/collection_files.py applies galaxy.yml's build_ignore) plus the targets."""
    git = shutil.which("git")
    in_git = (
        git and subprocess.run([git, "-C", str(ROOT), "rev-parse"], capture_output=True, check=False).returncode == 0
    )
    if in_git:
        listed = subprocess.run(
            [git, "-C", str(ROOT), "ls-files", "-z", "-co", "--exclude-standard"], check=True, capture_output=True
        ).stdout
    else:  # an unpacked source tree: every file but the environments
        skip = {".venv", ".git", "tests/output"}
        listed = b"".join(
            str(p.relative_to(ROOT)).encode() + b"\0"
            for p in ROOT.rglob("*")
            if p.is_file() and not any(str(p.relative_to(ROOT)).startswith(s + "/") for s in skip)
        )
    shipped = subprocess.run(
        [str(VENV / "bin" / "python"), str(ROOT / "tools" / "collection_files.py"), str(ROOT)],
        input=listed,
        check=True,
        capture_output=True,
    ).stdout
    names = set(filter(None, shipped.decode().split("\0")))
    names |= {n for n in listed.decode().split("\0") if n.startswith(TARGETS)}
    return sorted(n for n in names if (ROOT / n).is_file())


def copy_collection(dest: Path) -> None:
    for name in collection_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def start_emulator(work: Path, log: Any) -> tuple:
    ready = work / "ready.json"
    # The ready JSON on stdout holds client secrets: it is read from the ready file, never printed.
    process = subprocess.Popen(
        [str(VENV / "bin" / "python"), "-m", "azure_emulator", "--seed", str(SEED), "--ready-file", str(ready)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while not ready.exists() or not ready.stat().st_size:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(
                "ansible-test-integration: the emulator did not start; see its log:\n%s"
                % (work / "emulator.log").read_text(errors="replace")[-3000:]
            )
        time.sleep(0.1)
    return process, json.loads(ready.read_text())


def control(info: Dict[str, Any], path: str) -> Any:
    with urllib.request.urlopen(info["control_endpoint"].rstrip("/") + path, timeout=30) as answer:  # noqa: S310
        return json.load(answer)


def integration_config(info: Dict[str, Any]) -> Dict[str, Any]:
    subscription = info["subscriptions"][0]["subscription_id"]
    group_id = "/subscriptions/%s/resourceGroups/%s" % (subscription, RESOURCE_GROUP)
    resources = control(info, "/state")["resources"]

    def identity(name: str) -> Dict[str, str]:
        uami = group_id + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name
        return resources[uami.lower()]["properties"]

    operator = next(sp for sp in info["service_principals"] if sp["name"] == "operator")
    vm = next(v for v in control(info, "/vms") if v["name"] == VM)
    return {
        "azure_auth": {
            "arm_endpoint": info["arm_endpoint"],
            "authority_host": info["authority_host"],
            "ca_path": info["ca_bundle"],
            "tenant_id": info["tenant_id"],
            "client_id": operator["client_id"],
            "client_secret": operator["client_secret"],
            "subscription_id": subscription,
            # ansible-test passes no ANSIBLE_AZURE_TOKEN_CACHE_DIR: keep tokens out of the user's ~/.ansible.
            "token_cache": False,
        },
        "azure_arm_endpoint": info["arm_endpoint"],
        "azure_graph_endpoint": info["graph_endpoint"],
        "azure_ca_path": info["ca_bundle"],
        "azure_subscription_id": subscription,
        "azure_resource_group": RESOURCE_GROUP,
        "azure_resource_group_id": group_id,
        "azure_operator_object_id": operator["object_id"],
        "azure_imds_endpoint": vm["imds_endpoint"],
        "azure_identity_client_id": identity(IDENTITY)["clientId"],
        "azure_identity_principal_id": identity(IDENTITY)["principalId"],
        "azure_spare_client_id": identity(SPARE)["clientId"],
        "azure_spare_principal_id": identity(SPARE)["principalId"],
    }


def write_secret_file(path: Path, text: str) -> None:
    """Created with mode 0600 from the start: it holds the operator's client secret."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(text)


def main(argv: List[str]) -> int:
    python_version = "%d.%d" % sys.version_info[:2]
    work = Path(tempfile.mkdtemp(prefix="mi-azure-integration."))
    process = None
    try:
        dest = work / "ansible_collections" / "managed_identity" / "azure"
        copy_collection(dest)
        with open(work / "emulator.log", "wb") as log:
            process, info = start_emulator(work, log)
            config = dest / "tests" / "integration" / "integration_config.yml"
            write_secret_file(config, json.dumps(integration_config(info), indent=2))  # JSON is YAML
            env = dict(os.environ, PATH="%s:%s" % (VENV / "bin", os.environ.get("PATH", "")))
            command = [str(VENV / "bin" / "ansible-test"), "integration", "--local", "--python", python_version]
            command += ["--color", "no", *argv]
            print("ansible-test-integration: %s (in %s)" % (" ".join(command[1:]), dest), flush=True)
            return subprocess.run(command, cwd=dest, env=env, check=False).returncode
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
