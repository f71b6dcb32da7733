"""Authenticated ARM reads per second sustained by the emulator on loopback.

Starts an emulator (default seed) with throttling off, gets one operator token from its Entra ID, then GETs the
resource group from a few concurrent clients (threads, one requests.Session each) for about ``--seconds`` and prints
the rate against the target. The emulator must never be the bottleneck of a benchmark of the collection.

    .venv/bin/python bench/emulator_arm_reads.py [--seconds 5] [--clients 4]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from emulator import RunningEmulator  # noqa: E402

TARGET = 500.0
SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    with RunningEmulator.start() as emu:
        emu.set_knobs(throttling=False)
        token = emu.arm_token()
        url = f"{emu.arm_endpoint}subscriptions/{SUB}/resourceGroups/DevTest?api-version=2021-04-01"
        counts = [0] * args.clients
        failures = [0] * args.clients
        stop = threading.Event()

        def client(index: int) -> None:
            with requests.Session() as session:
                headers = {"Authorization": f"Bearer {token}"}
                while not stop.is_set():
                    response = session.get(url, headers=headers, verify=emu.ca_bundle, timeout=30)
                    if response.status_code == 200:
                        counts[index] += 1
                    else:
                        failures[index] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        # Warm up connections and caches before measuring.
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        start_count, started = sum(counts), time.perf_counter()
        time.sleep(args.seconds)
        done, elapsed = sum(counts), time.perf_counter() - started
        stop.set()
        for thread in threads:
            thread.join()
        served = emu.counters("arm")["requests"]

    rate = (done - start_count) / elapsed
    print(f"authenticated ARM GETs: {rate:.0f} reads/s over {elapsed:.1f} s with {args.clients} clients "
          f"(target >= {TARGET:.0f}/s, ratio {rate / TARGET:.2f}); failures: {sum(failures)}; "
          f"emulator counted {served} ARM requests")
    return 0 if rate >= TARGET and not sum(failures) else 1


if __name__ == "__main__":
    sys.exit(main())
