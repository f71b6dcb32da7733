"""Control-plane tasks per second with the controller's token cache on and off, in the same run.

Starts one emulator, then runs the same play twice: N controller-side module runs (resource_group_info in a loop,
each item a module process of its own, as Ansible runs them), once with the token cache on and once with it off
(ANSIBLE_AZURE_TOKEN_CACHE=false). Prints the module runs per second of each, the operator's token requests of each
(from the emulator's counters) and the ratio on/off. Entra ID's loop detection is off so that the run without the
cache can finish; --entra-latency adds a delay to every token request (the emulator answers on loopback in
milliseconds; Entra ID over the internet takes longer), 0 by default.

    .venv/bin/python bench/token_cache.py [--tasks 40] [--rounds 2] [--entra-latency 0.15]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "integration")]

from support.ansible import run_playbook  # noqa: E402
from support.emulator import RunningEmulator  # noqa: E402
from test_token_cache import read_group_play  # noqa: E402

SUB = "5c0ffee0-0000-4000-8000-0000000000b1"
RG = "rg-bench"
SEED = {
    "subscriptions": [{"subscription_id": SUB, "resource_groups": [{"name": RG, "location": "westus"}]}],
    "service_principals": [{"name": "operator"}],
    "role_assignments": [{"principal": "operator", "role": "Reader", "scope": "/subscriptions/" + SUB}],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=40, help="module runs per play (default: %(default)s)")
    parser.add_argument("--entra-latency", type=float, default=0.0, help="seconds added to every token request")
    parser.add_argument("--rounds", type=int, default=2, help="on/off pairs, in alternating order (default: 2)")
    args = parser.parse_args()

    with (
        RunningEmulator.start(seed=SEED, extra_args=("--no-throttling",)) as emu,
        tempfile.TemporaryDirectory(prefix="token-cache-bench-") as workdir,
    ):
        if args.entra_latency:
            emu.add_fault(service="entra", kind="latency", latency=args.entra_latency)
        # Rounds alternate the order (on/off, off/on, ...) so that a load change on the machine hits both alike.
        elapsed = {"cache on": 0.0, "cache off": 0.0}
        variants = [("cache on", "true"), ("cache off", "false")]
        for round_no in range(args.rounds):
            for label, cache in variants if round_no % 2 == 0 else variants[::-1]:
                env = {
                    **emu.operator_env(),
                    "ANSIBLE_AZURE_TOKEN_CACHE": cache,
                    "ANSIBLE_AZURE_TOKEN_CACHE_DIR": str(Path(workdir) / ("cache%d" % round_no)),
                }
                emu.reset_counters()
                started = time.monotonic()
                result = run_playbook(
                    read_group_play(emu, SUB, RG, args.tasks),
                    env=env,
                    run_dir=Path(workdir) / ("%s-%d" % (label.replace(" ", "_"), round_no)),
                )
                took = time.monotonic() - started
                if result.rc != 0:
                    print(result.output[-4000:])
                    print("the play failed with the %s (exit %d)" % (label, result.rc))
                    return 1
                elapsed[label] += took
                print(
                    "round %d, %-9s: %3d tasks in %6.1f s = %5.2f tasks/s, %3d token requests"
                    % (round_no + 1, label, args.tasks, took, args.tasks / took, emu.counters("entra")["requests"])
                )
        print(
            "tasks per second, cache on / cache off: %.2f (%d rounds, entra latency %.2f s)"
            % (elapsed["cache off"] / elapsed["cache on"], args.rounds, args.entra_latency)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
