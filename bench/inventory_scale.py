"""The azure_vms inventory plugin on a fleet of emulated VMs, against ansible-inventory on a static YAML file.

Starts an emulator with N VMs (default 1,000) in four resource groups of one subscription (a fifth with public IPs,
Windows and Linux, tags, some with identities), then times ``ansible-inventory --list`` with the plugin and with a
static YAML inventory holding the same hosts, host variables and groups, and prints the median of each, the ratio
(goal: at most 2x) and the ARM requests the plugin made (four list calls plus their pages, whatever N).

    .venv/bin/python bench/inventory_scale.py [--vms 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from support.ansible import ansible_env, plain  # noqa: E402
from support.emulator import RunningEmulator  # noqa: E402

SUB = "5c0ffee0-0000-4000-8000-000000001000"
GOAL = 2.0


def seed(vms: int) -> dict:
    groups = [{"name": "rg-%d" % g, "location": ("westeurope", "eastus")[g % 2], "vms": []} for g in range(4)]
    for i in range(vms):
        groups[i % 4]["vms"].append({
            "name": "vm%04d" % i,
            "os_type": "Windows" if i % 4 == 0 else "Linux",
            "public_ip": i % 5 == 0 and i < 700,
            "tags": {"env": ("prod", "dev")[i % 2], "team": "t%d" % (i % 7)},
            "identity": {"system_assigned": i % 3 == 0},
        })
    return {
        "subscriptions": [{"subscription_id": SUB, "resource_groups": groups}],
        "service_principals": [{"name": "operator"}],
        "role_assignments": [{"principal": "operator", "role": "Reader", "scope": "/subscriptions/" + SUB}],
    }


def inventory_list(source: Path, env: dict) -> tuple[float, dict]:
    command = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(source), "--list"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit("ansible-inventory -i %s failed:\n%s" % (source, done.stderr[-3000:]))
    return elapsed, json.loads(done.stdout)


def static_inventory(listed: dict) -> dict:
    """The plugin's output as a YAML inventory: the same hosts with the same variables and groups."""
    hostvars = plain(listed["_meta"]["hostvars"])
    children = {}
    for group, body in listed.items():
        if group in ("_meta", "all", "ungrouped") or not body.get("hosts"):
            continue
        hosts = {name: (hostvars[name] if group == "azure_vms" else None) for name in body["hosts"]}
        children[group] = {"hosts": hosts}
    return {"all": {"children": children}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    print("ansible-inventory --list on %d emulated VMs: azure_vms plugin vs a static YAML of the same hosts" % args.vms)
    emulator = RunningEmulator.start(seed=seed(args.vms))
    with tempfile.TemporaryDirectory(prefix="inventory-scale-") as tmp, emulator as emu:
        work = Path(tmp)
        env = ansible_env(work, work / "results.jsonl", emu.operator_env())
        config = work / "fleet.azure_vms.yml"
        config.write_text(yaml.safe_dump({
            "plugin": "managed_identity.azure.azure_vms", "subscription_ids": [SUB],
            "arm_endpoint": emu.arm_endpoint, "ca_path": emu.ca_bundle,
            "keyed_groups": [{"key": "azure_os_type | lower", "prefix": "os"}],
        }))
        plugin_times, static_times, requests = [], [], []
        listed = None
        for _ in range(args.runs):
            emu.reset_counters()
            elapsed, listed = inventory_list(config, env)
            plugin_times.append(elapsed)
            requests.append(emu.counters("arm")["requests"])
        hosts = len(listed["_meta"]["hostvars"])
        if hosts != args.vms:
            raise SystemExit("the plugin listed %d hosts, not %d" % (hosts, args.vms))
        static = work / "static.yml"
        static.write_text(yaml.safe_dump(static_inventory(listed)))
        for _ in range(args.runs):
            elapsed, again = inventory_list(static, env)
            static_times.append(elapsed)
        if plain(again["_meta"]["hostvars"]) != plain(listed["_meta"]["hostvars"]):
            raise SystemExit("the static inventory does not give the same host variables")

    plugin_s, static_s = statistics.median(plugin_times), statistics.median(static_times)
    ratio = plugin_s / static_s
    print("  azure_vms plugin : %6.2f s (median of %d; ARM requests per run: %s)" % (plugin_s, args.runs, requests))
    print("  static YAML      : %6.2f s (median of %d)" % (static_s, args.runs))
    print("  ratio            : %6.2fx (goal: at most %gx) %s" % (ratio, GOAL, "OK" if ratio <= GOAL else "OVER"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
