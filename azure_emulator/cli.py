"""Command line: ``python -m azure_emulator --help``."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

from .emulator import Config, Emulator
from .knobs import Knobs
from .seed import SeedError

log = logging.getLogger("azure_emulator")

DESCRIPTION = """\
Offline Azure emulator: Entra ID, Azure Resource Manager (with RBAC), Microsoft Graph (service principals) and
the managed-identity endpoints (IMDS per VM, VM extension, App Service, Arc, Service Fabric, Azure ML, Cloud
Shell), on loopback only.
When every listener is up it prints one JSON line (endpoints, tenant, CA bundle, service principals with
their secrets, VMs with their IMDS endpoints) on stdout and writes the same to --ready-file.
Stop it with SIGTERM or Ctrl-C; it removes its temporary files."""

EPILOG = """\
Knobs given here can be changed while it runs: PATCH <control_endpoint>knobs with a JSON object.
See azure_emulator/README.md for the seed format and the control endpoint."""


def _non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is negative; give 0 or more seconds")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 1")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is negative; give 0 (off) or more")
    return number


def _port(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a TCP port (0 picks a free one)")
    return number


def build_parser() -> argparse.ArgumentParser:
    defaults = Knobs()
    parser = argparse.ArgumentParser(prog="python -m azure_emulator", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    world = parser.add_argument_group("world")
    world.add_argument("--seed", metavar="FILE", type=Path,
                       help="YAML seed (tenant, subscriptions, resource groups, VMs, identities, principals, roles, "
                            "role assignments). Default: the tutorial's world (azure_emulator/seeds/default.yaml).")
    world.add_argument("--state", metavar="FILE", type=Path,
                       help="persist every write atomically to FILE and reload it on start, so a restart loses "
                            "nothing (it also keeps the CA, the token-signing key and the secrets, so tokens and "
                            "the CA bundle issued before a restart stay valid). The file holds private keys and "
                            "secrets: it is created with mode 0600.")
    world.add_argument("--workdir", metavar="DIR", type=Path,
                       help="where to write the CA bundle, server certificates and federated token files, kept "
                            "after exit (stable paths across restarts). Default: a new temporary directory, "
                            "removed at exit.")
    net = parser.add_argument_group("network (loopback only)")
    net.add_argument("--host", default="127.0.0.1",
                     help="loopback address to listen on (default: %(default)s); anything else is refused")
    net.add_argument("--arm-port", type=_port, default=0, metavar="PORT", help="ARM port (default: a free one)")
    net.add_argument("--authority-port", type=_port, default=0, metavar="PORT",
                     help="Entra ID port (default: a free one)")
    net.add_argument("--control-port", type=_port, default=0, metavar="PORT",
                     help="control endpoint port (default: a free one)")
    net.add_argument("--graph-port", type=_port, default=0, metavar="PORT",
                     help="Microsoft Graph port (default: a free one)")
    net.add_argument("--ready-file", metavar="FILE", type=Path,
                     help="also write the ready JSON line to FILE (mode 0600; removed at exit)")
    knobs = parser.add_argument_group("realism knobs (changeable at run time through PATCH /knobs)")
    knobs.add_argument("--propagation-delay", type=_non_negative, default=defaults.propagation_delay, metavar="S",
                       help="seconds before a new or removed role assignment takes effect for authorization "
                            "(Azure: up to 10 minutes; default: %(default)s)")
    knobs.add_argument("--replication-delay", type=_non_negative, default=defaults.replication_delay,
                       metavar="S", help="seconds during which a new principal gives PrincipalNotFound to a role "
                                         "assignment PUT without principalType (default: %(default)s)")
    knobs.add_argument("--page-size", type=_positive_int, default=defaults.page_size, metavar="N",
                       help="ARM list page size before a nextLink (default: %(default)s)")
    knobs.add_argument("--token-lifetime", type=_non_negative, default=None, metavar="S",
                       help="lifetime of every issued access token (default: Azure's, 3599 s for service "
                            "principals and 86700 s for managed identities)")
    knobs.add_argument("--lro-delay", type=_non_negative, default=defaults.lro_delay, metavar="S",
                       help="seconds a VM/VMSS update stays 'Updating' (default: %(default)s)")
    knobs.add_argument("--retry-after", type=_positive_int, default=defaults.retry_after, metavar="S",
                       help="Retry-After on long-running operation answers (default: %(default)s)")
    knobs.add_argument("--no-throttling", action="store_true",
                       help="never answer 429 from the ARM token buckets (the x-ms-ratelimit headers stay)")
    knobs.add_argument("--no-imds-limits", action="store_true",
                       help="lift IMDS's 20 requests/s and 5 concurrent requests per VM")
    knobs.add_argument("--entra-loop-threshold", type=_non_negative_int, default=defaults.entra_loop_threshold,
                       metavar="N", help="Entra ID loop detection: more than N identical client-credential requests "
                                         "(same client and resource) within --entra-loop-window get 429 AADSTS50196 "
                                         "(default: %(default)s, off)")
    knobs.add_argument("--entra-loop-window", type=_non_negative, default=defaults.entra_loop_window, metavar="S",
                       help="the loop detection window in seconds (default: %(default)s)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="log level on stderr (default: %(default)s); secrets and tokens are never logged")
    return parser


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback and ipaddress.ip_address(host).version == 4
    except ValueError:
        return False


def config_from_args(args: argparse.Namespace) -> Config:
    knobs = Knobs(propagation_delay=args.propagation_delay, replication_delay=args.replication_delay,
                  page_size=args.page_size, token_lifetime=args.token_lifetime, lro_delay=args.lro_delay,
                  retry_after=args.retry_after, throttling=not args.no_throttling,
                  imds_limits=not args.no_imds_limits, entra_loop_threshold=args.entra_loop_threshold,
                  entra_loop_window=args.entra_loop_window)
    return Config(seed=args.seed, state=args.state, ready_file=args.ready_file, workdir=args.workdir,
                  host=args.host, arm_port=args.arm_port, authority_port=args.authority_port,
                  control_port=args.control_port, graph_port=args.graph_port, knobs=knobs)


def _write_ready_file(path: Path, line: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".ready-", dir=path.parent or ".")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(line + "\n")
    os.replace(tmp, path)


async def run(config: Config) -> None:
    emulator = Emulator(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await emulator.start()
        line = json.dumps(emulator.info())
        if config.ready_file is not None:
            _write_ready_file(config.ready_file, line)
        print(line, flush=True)
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="azure_emulator: %(levelname)s %(message)s")
    if not _is_loopback(args.host):
        parser.error(f"--host {args.host!r} is not a loopback IPv4 address; the emulator listens on loopback "
                     "only (use 127.0.0.1 or another 127.x.y.z address)")
    if args.seed is not None and not args.seed.is_file():
        parser.error(f"--seed {str(args.seed)!r} is not a readable file")
    try:
        asyncio.run(run(config_from_args(args)))
    except (SeedError, ValueError) as exc:
        print(f"azure_emulator: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"azure_emulator: error: {exc}", file=sys.stderr)
        return 1
    return 0
