"""Authenticated ARM reads per second sustained by the emulator on loopback.

Starts an emulator (default seed) with throttling off, gets one operator token from its Entra ID, then GETs the
resource group from a few concurrent clients (aiohttp tasks sharing a keep-alive pool; a requests-based client in
threads is itself the bottleneck at ~200/s on 2 cores) for about ``--seconds`` and prints the rate against the
target. The emulator must never be the bottleneck of a benchmark of the collection.

    .venv/bin/python bench/emulator_arm_reads.py [--seconds 5] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from emulator import RunningEmulator  # noqa: E402

TARGET = 500.0
SUB = "98f51385-2edc-4b79-bed9-7718de4cb861"


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), to tell the emulator's cost from machine contention."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(url: str, token: str, ca_bundle: str, seconds: float, clients: int) -> tuple[int, int, float]:
    """(successes, failures, elapsed) after a 0.5 s warm-up that opens the connections."""
    context = ssl.create_default_context(cafile=ca_bundle)
    headers = {"Authorization": f"Bearer {token}"}
    ok = failed = 0
    measuring = False
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context, limit=clients)) as session:
        deadline = time.perf_counter() + 0.5 + seconds

        async def client() -> None:
            nonlocal ok, failed
            while time.perf_counter() < deadline:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if measuring:
                        if response.status == 200:
                            ok += 1
                        else:
                            failed += 1

        tasks = [asyncio.create_task(client()) for _ in range(clients)]
        await asyncio.sleep(0.5)
        measuring, started = True, time.perf_counter()
        await asyncio.gather(*tasks)
        return ok, failed, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    with RunningEmulator.start() as emu:
        emu.set_knobs(throttling=False)
        token = emu.arm_token()
        url = f"{emu.arm_endpoint}subscriptions/{SUB}/resourceGroups/DevTest?api-version=2021-04-01"
        cpu_before = cpu_seconds(emu.process.pid)
        ok, failed, elapsed = asyncio.run(measure(url, token, emu.ca_bundle, args.seconds, args.clients))
        cpu_after = cpu_seconds(emu.process.pid)
        served = emu.counters("arm")["requests"]

    rate = ok / elapsed
    print(f"authenticated ARM GETs: {rate:.0f} reads/s over {elapsed:.1f} s with {args.clients} clients "
          f"(target >= {TARGET:.0f}/s, ratio {rate / TARGET:.2f}); failures: {failed}; "
          f"emulator counted {served} ARM requests")
    if cpu_before is not None and cpu_after is not None and served:
        per_read = (cpu_after - cpu_before) / served  # served includes the warm-up, as does the CPU time
        print(f"emulator CPU per read: {per_read * 1e6:.0f} us (one core sustains about {1 / per_read:.0f} reads/s; "
              f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0 if rate >= TARGET and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
