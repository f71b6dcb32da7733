"""Per-task cost of ``token_info`` against ``ansible.builtin.ping`` on the same host, same playbook settings.

Starts an emulator with a VM that has one user-assigned identity, then runs, interleaved in a rotating order, a
playbook of N ``token_info`` tasks (IMDS of that VM via AZURE_POD_IDENTITY_AUTHORITY_HOST), a playbook of N ``ping``
tasks and an empty playbook (ansible-playbook's own start-up, subtracted). Prints per-task wall time and CPU time
(median of the rounds) and their ratios against the target of 1.25x ping. CPU time (ansible-playbook and everything
it forks) is the steadier figure on a busy machine; wall time includes the wait for the emulated IMDS.

    .venv/bin/python bench/token_info_vs_ping.py [--tasks 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.ansible import run_playbook  # noqa: E402  (the test harness: same settings as the integration tests)
from support.emulator import RunningEmulator  # noqa: E402

TARGET = 1.25
SEED = ROOT / "tests" / "integration" / "playbooks" / "identity" / "seed.yaml"


def play(tasks: list[dict]) -> list[dict]:
    return [{"name": "bench", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(playbook: list[dict], env: dict, run_dir: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ansible-playbook run."""
    started, cpu_before = time.perf_counter(), cpu()
    result = run_playbook(playbook, env=env, run_dir=run_dir)
    elapsed, cpu_used = time.perf_counter() - started, cpu() - cpu_before
    result.assert_ok()
    return elapsed, cpu_used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with RunningEmulator.start(seed=SEED) as emulator, tempfile.TemporaryDirectory() as tmp:
        env = {"AZURE_POD_IDENTITY_AUTHORITY_HOST": emulator.vm("vmOneUser")["imds_endpoint"]}
        playbooks = {
            "empty": play([]),
            "ping": play([{"name": "ping %d" % i, "ansible.builtin.ping": {}} for i in range(args.tasks)]),
            "token_info": play([{"name": "token %d" % i, "managed_identity.azure.token_info": {}, "no_log": True}
                                for i in range(args.tasks)]),
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in playbooks}
        names = list(playbooks)
        for round_ in range(args.rounds):
            # Rotate the order each round so a burst of load elsewhere on the machine does not always hit one kind.
            for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                times[name].append(timed(playbooks[name], env, Path(tmp) / ("%s-%d" % (name, round_))))
        calls = emulator.counters("imds")

    print("%d tasks per playbook, %d rounds, median per task after subtracting the empty play:" % (
        args.tasks, args.rounds))
    ratios = {}
    for index, kind in ((0, "wall"), (1, "cpu")):
        startup = statistics.median(t[index] for t in times["empty"])
        per_task = {name: (statistics.median(t[index] for t in times[name]) - startup) / args.tasks
                    for name in ("ping", "token_info")}
        ratios[kind] = per_task["token_info"] / per_task["ping"]
        print("  %-4s  start-up %.2f s   ping %4.0f ms   token_info %4.0f ms   ratio %.2fx" % (
            kind, startup, per_task["ping"] * 1000, per_task["token_info"] * 1000, ratios[kind]))
    print("IMDS token requests served: %s" % calls.get("requests"))
    for kind, ratio in ratios.items():
        print("token_info / ping (%s): %.2fx (target <= %.2fx): %s" % (
            kind, ratio, TARGET, "OK" if ratio <= TARGET else "ABOVE TARGET"))


if __name__ == "__main__":
    main()
