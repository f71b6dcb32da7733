"""make demo: Microsoft's tutorial "Use a VM's managed identity to access Resource Manager", end to end, offline.

Starts the Azure emulator with the tutorial's world (resource group DevTest in westus, VM myVM with no identity, an
operator service principal that owns the subscription) and a role propagation delay of a few seconds, lists its VMs
with the azure_vms inventory plugin (playbooks/inventory/emulator/demo.azure_vms.yml), then runs

  1. playbooks/site.yml: enable myVM's system-assigned identity, grant it Reader on DevTest, and from the VM get a
     token from IMDS and read DevTest with it (waiting out the propagation delay);
  2. site.yml again, as ansible-playbook managed_identity.azure.site: nothing changes (changed=0, no ARM write);
  3. playbooks/teardown.yml: the role assignment and the identity go again.

The emulator is stopped on success, failure and Ctrl-C. Exit status 0 only when every step did what it says.
Run with the project's virtual environment (make demo does): python tools/demo.py [--propagation-delay S]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The azure_vms inventory plugin lists the emulator's VMs: no hand-written host list.
INVENTORY = ROOT / "playbooks" / "inventory" / "emulator" / "demo.azure_vms.yml"
READY_TIMEOUT = 60.0
# Inherited settings that could send the demo to real Azure or through a proxy.
UNWANTED_PREFIXES = ("AZURE_", "ARM_", "MSI_", "IDENTITY_", "IMDS_")
UNWANTED_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


class DemoFailed(RuntimeError):
    pass


def heading(text: str) -> None:
    print("\n" + "=" * 100 + "\n" + text + "\n" + "=" * 100, flush=True)


def note(text: str) -> None:
    print("demo: " + text, flush=True)


class Emulator:
    def __init__(self, workdir: Path, propagation_delay: float) -> None:
        self.ready_file = workdir / "ready.json"
        self.log = workdir / "emulator.log"
        args = [
            sys.executable,
            "-m",
            "azure_emulator",
            "--ready-file",
            str(self.ready_file),
            "--propagation-delay",
            str(propagation_delay),
        ]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.ready_file.exists():
            if self.process.poll() is not None:
                raise DemoFailed(
                    "the emulator exited with %s before it was ready:\n%s"
                    % (self.process.returncode, self.log.read_text(errors="replace"))
                )
            if time.monotonic() > deadline:
                raise DemoFailed("the emulator was not ready within %d s" % READY_TIMEOUT)
            time.sleep(0.05)
        self.info = json.loads(self.ready_file.read_text(encoding="utf-8"))

    def control(self, method: str, path: str) -> dict:
        request = urllib.request.Request(self.info["control_endpoint"].rstrip("/") + path, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback control endpoint
            return json.loads(response.read() or b"null")

    def arm_writes(self) -> int:
        return self.control("GET", "/counters?service=arm")["writes"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def playbook_env(emulator: Emulator) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(UNWANTED_PREFIXES) and k.upper() not in UNWANTED_NAMES
    }
    operator = emulator.info["service_principals"][0]
    env.update(
        # The operator's credentials, as the Azure SDKs' environment variables (never printed).
        AZURE_TENANT_ID=emulator.info["tenant_id"],
        AZURE_CLIENT_ID=operator["client_id"],
        AZURE_CLIENT_SECRET=operator["client_secret"],
        AZURE_AUTHORITY_HOST=emulator.info["authority_host"],
        # playbooks/inventory/emulator/ reads every endpoint from the ready file.
        AZURE_EMULATOR_READY_FILE=str(emulator.ready_file),
        ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections")),
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_DISPLAY_SKIPPED_HOSTS="False",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def run_playbook(playbook: str, env: dict) -> dict[str, dict[str, int]]:
    """Run ansible-playbook with the demo inventory, streaming its output; returns the recap per host."""
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(INVENTORY), playbook]
    note("$ ansible-playbook -i %s %s" % (INVENTORY.relative_to(ROOT), playbook))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    except BaseException:
        # Interrupted or terminated: ansible-playbook must not outlive the demo (nor the emulator it talks to).
        process.terminate()
        process.wait()
        raise
    if process.wait() != 0:
        raise DemoFailed("ansible-playbook %s exited with %d" % (playbook, process.returncode))
    output = "".join(lines)
    return {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3))} for m in RECAP.finditer(output)}


def show_inventory(env: dict) -> None:
    """ansible-inventory --graph through the plugin; the tutorial's VM must be a host of azure_vms."""
    command = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(INVENTORY), "--graph", "azure_vms"]
    note("$ ansible-inventory -i %s --graph azure_vms" % INVENTORY.relative_to(ROOT))
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    print(done.stdout + done.stderr, end="", flush=True)
    if done.returncode != 0 or "--myVM" not in done.stdout:
        raise DemoFailed("the azure_vms inventory plugin did not list myVM in azure_vms")


def check_link() -> None:
    link = ROOT / ".venv" / "collections" / "ansible_collections" / "managed_identity" / "azure"
    if "ANSIBLE_COLLECTIONS_PATH" not in os.environ and not (link.exists() and link.resolve() == ROOT):
        raise DemoFailed("%s does not point to this checkout; run make setup (or make demo)" % link)


def demo(propagation_delay: float) -> None:
    check_link()
    with tempfile.TemporaryDirectory(prefix="mi-demo-") as workdir:
        heading("Start the offline Azure emulator: the tutorial's subscription, resource group DevTest, VM myVM")
        emulator = Emulator(Path(workdir), propagation_delay)
        try:
            vm = emulator.info["vms"][0]
            note(
                "ARM %s, Entra ID %s, myVM's IMDS %s"
                % (emulator.info["arm_endpoint"], emulator.info["authority_host"], vm["imds_endpoint"])
            )
            note("a new role assignment takes %g s to reach ARM (Azure: up to 10 minutes)" % propagation_delay)
            env = playbook_env(emulator)

            heading("The inventory, straight from (emulated) Azure: the azure_vms inventory plugin")
            show_inventory(env)

            heading(
                "The tutorial's three steps, as playbooks/site.yml:\n"
                "  1. Enable the system-assigned managed identity on myVM          (role enable_identity)\n"
                "  2. Grant myVM's identity Reader on resource group DevTest       (role grant_access)\n"
                "  3. On the VM, get an access token from IMDS and call ARM with it (role validate_access)"
            )
            run_playbook("playbooks/site.yml", env)

            heading("Run it again (ansible-playbook managed_identity.azure.site): everything is in place already")
            writes = emulator.arm_writes()
            recap = run_playbook("managed_identity.azure.site", env)
            changed = sum(host["changed"] for host in recap.values())
            writes = emulator.arm_writes() - writes
            note("second run: changed=%d, ARM writes=%d" % (changed, writes))
            if changed or writes:
                raise DemoFailed("the second run of site.yml was expected to change nothing")

            heading("Clean up (playbooks/teardown.yml): remove the role assignment, disable the identity")
            run_playbook("playbooks/teardown.yml", env)
            state = emulator.control("GET", "/state")
            left = [
                a
                for a in state["role_assignments"].values()
                if a["properties"]["principalId"] != emulator.info["service_principals"][0]["object_id"]
            ]
            vm_after = next(r for r in state["resources"].values() if r["id"].lower() == vm["id"].lower())
            note(
                "myVM identity after teardown: %s; role assignments left besides the operator's: %d"
                % ((vm_after.get("identity") or {}).get("type", "None"), len(left))
            )
            if left or (vm_after.get("identity") or {}).get("type", "None") != "None":
                raise DemoFailed("teardown left something behind")
        finally:
            emulator.stop()
            note("emulator stopped")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # Long enough that the validation visibly waits for it even on a fast machine, short enough to watch.
    parser.add_argument(
        "--propagation-delay",
        type=float,
        default=10.0,
        help="seconds before a new role assignment takes effect (default: 10)",
    )
    args = parser.parse_args()
    # SIGTERM (a CI runner stopping the job) unwinds like Ctrl-C, so the emulator is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    try:
        demo(args.propagation_delay)
    except DemoFailed as err:
        print("\ndemo: FAILED: %s" % err, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ndemo: interrupted", file=sys.stderr)
        return 130
    heading(
        "Done in %.0f s: the VM's own identity read its resource group, and nothing is left behind"
        % (time.monotonic() - started)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
