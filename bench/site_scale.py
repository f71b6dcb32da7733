"""playbooks/site.yml on a fleet of emulated VMs, against the Ansible floor, side by side in one run.

Starts an emulator seeded with N VMs in one resource group (no identities), runs bench/floor.yml (four ansible.builtin
.ping per VM: two delegated to the controller, two on the host - the floor for enable + grant + token + read), then
site.yml twice with the given enable_identity_mode, same inventory and forks. Prints for each run the wall time, the
ARM requests and writes per VM (from the emulator's counters), and each site.yml run as a ratio to the floor. The
second run should write nothing.

    .venv/bin/python bench/site_scale.py [--vms 50] [--mode system|shared_user_assigned|...] [--forks 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "integration")]

from site_world import SITE, site_inventory  # noqa: E402

FLOOR = Path(__file__).resolve().parent / "floor.yml"
from support.ansible import run_playbook  # noqa: E402
from support.emulator import RunningEmulator  # noqa: E402

SUB = "5c0ffee0-0000-4000-8000-000000000050"


def seed(vms: int) -> dict:
    return {
        "subscriptions": [
            {
                "subscription_id": SUB,
                "resource_groups": [
                    {"name": "rg-scale", "location": "westus", "vms": [{"name": "vm%03d" % i} for i in range(vms)]}
                ],
            }
        ],
        "service_principals": [{"name": "operator"}],
        "role_assignments": [{"principal": "operator", "role": "Owner", "scope": "/subscriptions/" + SUB}],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", type=int, default=50)
    parser.add_argument("--mode", default="system", choices=["system", "user_assigned", "both", "shared_user_assigned"])
    parser.add_argument("--forks", type=int, default=10, help="ansible forks")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of floor, first and second run (the world is reset in between)"
    )
    args = parser.parse_args()

    print(
        "site.yml on %d emulated VMs, enable_identity_mode=%s, forks=%d, %d rounds"
        % (args.vms, args.mode, args.forks, args.rounds)
    )
    # Throttling off: the bench measures the playbook, not the emulator's copy of ARM's rate limits.
    with (
        RunningEmulator.start(seed=seed(args.vms), extra_args=("--no-throttling",)) as emu,
        tempfile.TemporaryDirectory(prefix="site-scale-") as workdir,
    ):
        inventory = site_inventory(emu, enable_identity_mode=args.mode)
        env = {**emu.operator_env(), "ANSIBLE_FORKS": str(args.forks)}
        ratios: dict = {"first": [], "second": []}
        for round_no in range(1, args.rounds + 1):
            # Each round starts from the seed, so that its first run really enables and grants; the floor runs in the
            # same round, right before, so both see the same machine load.
            emu.reset()
            seconds = {}
            for run, playbook in (("floor", FLOOR), ("first", SITE), ("second", SITE)):
                emu.reset_counters()
                started = time.monotonic()
                result = run_playbook(
                    playbook,
                    inventory=inventory,
                    env=env,
                    run_dir=Path(workdir) / ("%s-%d" % (run, round_no)),
                    timeout=3600,
                )
                seconds[run] = time.monotonic() - started
                if result.rc != 0:
                    print(result.output[-4000:])
                    print("%s failed on the %s run (exit %d)" % (playbook.name, run, result.rc))
                    return 1
                counters = emu.counters("arm")
                print(
                    "round %d %-6s %7.1f s wall, %5d ARM requests (%.2f per VM), %4d writes (%.2f per VM)"
                    % (
                        round_no,
                        run,
                        seconds[run],
                        counters["requests"],
                        counters["requests"] / args.vms,
                        counters["writes"],
                        counters["writes"] / args.vms,
                    )
                )
            for run in ratios:
                ratios[run].append(seconds[run] / seconds["floor"])
        print(
            "site.yml / floor (median of %d rounds): first run %.2fx, second run %.2fx (each round: first %s, "
            "second %s; goal: at most 1.5x)"
            % (
                args.rounds,
                statistics.median(ratios["first"]),
                statistics.median(ratios["second"]),
                ", ".join("%.2f" % r for r in ratios["first"]),
                ", ".join("%.2f" % r for r in ratios["second"]),
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
