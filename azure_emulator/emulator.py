"""The Emulator: owns the world, keys, knobs, counters, faults and limits, and runs every listener.

It is the one place that wires the apps. Each Azure-facing app gets an ``AppContext`` (``context.py``: the world,
the token issuer, the endpoints) plus the helpers it alone uses, never the Emulator:

* ``azure_emulator.entra.make_entra_app(context, loops)`` (Entra ID, HTTPS)
* ``azure_emulator.arm.make_app(context) -> web.Application`` (ARM, HTTPS)
* ``azure_emulator.graph.make_graph_app(context)`` (Microsoft Graph, HTTPS)
* ``azure_emulator.imds.make_imds_app(context, vm_id, limiter)`` and ``make_extension_app(context, vm_id)``: one
  listener each per VM; ``vm_id`` is the VM's ARM resource ID (``context.world.get(vm_id)`` finds it).
* ``azure_emulator.mi_sources.make_apps(context, seed) -> IdentitySources``: its ``listeners`` are
  ``(name, app, tls, env)`` with ``tls`` False (HTTP), True (HTTPS with ``pki.server``) or an ``ssl.SSLContext``, and
  ``env`` a dict whose values may contain ``{base_url}`` (replaced by the listener's ``http(s)://127.0.0.1:PORT``)
  or a callable ``env(base_url) -> dict``.

Every one of them gets ``middleware.middleware`` (counting, faults, ARM throttling) added here, so apps must not add
it themselves. The control app (``control.py``) drives the Emulator through the narrow ``control.Controlled``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import ssl
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from . import arm, control, entra, graph, imds, mi_sources
from .context import AppContext
from .counters import Counters
from .faults import Faults
from .knobs import Knobs
from .middleware import middleware
from .mint import Minter, new_salt
from .pki import PKI
from .seed import build_world, load_seed
from .throttle import ArmThrottle, EntraLoopDetector, ImdsLimiter
from .tokens import TokenIssuer
from .world import World

log = logging.getLogger("azure_emulator")
FEDERATED_TOKEN_LIFETIME = 24 * 3600
FEDERATED_TOKEN_REFRESH = 3600


@dataclass
class Config:
    seed: str | Path | dict | None = None
    state: Path | None = None
    ready_file: Path | None = None
    workdir: Path | None = None
    host: str = "127.0.0.1"
    arm_port: int = 0
    authority_port: int = 0
    control_port: int = 0
    graph_port: int = 0
    knobs: Knobs = field(default_factory=Knobs)


@dataclass
class Listener:
    name: str
    runner: web.AppRunner
    base_url: str


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def _vm_parts(vm_id: str) -> dict[str, str]:
    parts = vm_id.split("/")
    return {"subscription_id": parts[2], "resource_group": parts[4], "name": parts[8]}


class Emulator:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.knobs = config.knobs
        self._start_knobs = Knobs(**config.knobs.to_dict())
        self.counters = Counters()
        self.faults = Faults()
        self.arm_throttle = ArmThrottle(self.knobs)
        self.imds_limiter = ImdsLimiter(self.knobs)
        self.entra_loops = EntraLoopDetector(self.knobs)
        self._own_workdir = config.workdir is None
        self.workdir = Path(config.workdir or tempfile.mkdtemp(prefix="azure-emulator-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.world: World
        self.pki: PKI
        self.issuer: TokenIssuer
        self.context: AppContext
        self.arm_endpoint = self.authority_host = self.control_endpoint = self.graph_endpoint = ""
        self.identity_endpoints: dict[str, dict] = {}
        self.federated_token_files: dict[str, Path] = {}
        self._seed_snapshot: dict = {}
        self._listeners: list[Listener] = []
        self._vm_listeners: dict[str, tuple[Listener, Listener]] = {}
        self._cleanups: list[Callable[[], Any]] = []
        self._tasks: set[asyncio.Task] = set()
        self._vm_sync_lock = asyncio.Lock()

    # -- start / stop ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._load_world()
        self.pki = PKI(self.world.keys.setdefault("pki", {}), self.workdir)
        self.issuer = TokenIssuer(self.world.tenant_id, self.knobs, self.world.keys.setdefault("signing", {}),
                                  clock=self.world.now)
        self.world.commit()
        self.write_federated_tokens()
        host = self.config.host
        control_sock = _bind(host, self.config.control_port)
        entra_sock = _bind(host, self.config.authority_port)
        arm_sock = _bind(host, self.config.arm_port)
        graph_sock = _bind(host, self.config.graph_port)
        self.control_endpoint = f"http://{host}:{control_sock.getsockname()[1]}/"
        self.authority_host = f"https://{host}:{entra_sock.getsockname()[1]}/"
        self.arm_endpoint = f"https://{host}:{arm_sock.getsockname()[1]}/"
        self.graph_endpoint = f"https://{host}:{graph_sock.getsockname()[1]}/"
        self.issuer.graph_endpoint = self.graph_endpoint
        self.context = AppContext(self.world, self.issuer, self.arm_endpoint, self.authority_host,
                                  self.graph_endpoint)
        tls = self.pki.server.ssl_context()
        await self._serve("control", control.make_control_app(self), control_sock, None, count=False)
        await self._serve("entra", entra.make_entra_app(self.context, self.entra_loops), entra_sock, tls)
        await self._serve("arm", arm.make_app(self.context), arm_sock, tls)
        await self._serve("graph", graph.make_graph_app(self.context), graph_sock, tls)
        await self._start_identity_sources()
        await self.sync_vm_listeners()
        self.world.on_vms_changed = self._schedule_vm_sync
        self._spawn(self._refresh_federated_tokens())

    def _load_world(self) -> None:
        state_path = self.config.state
        state = None
        if state_path is not None and state_path.exists():
            try:
                state = json.loads(state_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ValueError(f"cannot load state file {str(state_path)!r}: {exc}") from None
        salt = state["keys"]["salt"] if state else new_salt()
        seed = load_seed(self.config.seed)
        world = build_world(seed, self.knobs, Minter(salt), time.time())
        self._seed_snapshot = world.snapshot()
        if state is not None:
            world.load_state(state)
        world.keys["salt"] = salt
        world.state_path = state_path
        self.world = world

    async def _start_identity_sources(self) -> None:
        sources = mi_sources.make_apps(self.context, self.config.seed)
        for name, why in sources.unavailable.items():
            self.identity_endpoints[name] = {"env": {}, "unavailable": why}
        self._cleanups.extend(sources.cleanups)
        for name, app, tls, env in sources.listeners:
            ssl_context = self.pki.server.ssl_context() if tls is True else (tls or None)
            listener = await self._serve(name, app, _bind(self.config.host, 0), ssl_context)
            if callable(env):
                resolved = env(listener.base_url)
            else:
                resolved = {k: str(v).replace("{base_url}", listener.base_url) for k, v in env.items()}
            self.identity_endpoints[name] = {"env": resolved, "base_url": listener.base_url}

    async def _serve(self, name: str, app: web.Application, sock: socket.socket, tls: ssl.SSLContext | None,
                     *, count: bool = True) -> Listener:
        if count:
            if name == "arm":
                counting = middleware(name, self.counters, self.faults, throttle=self.arm_throttle, issuer=self.issuer)
            else:
                counting = middleware(name, self.counters, self.faults)
            app.middlewares.insert(0, counting)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock, ssl_context=tls).start()
        port = sock.getsockname()[1]
        listener = Listener(name, runner, f"{'https' if tls else 'http'}://{self.config.host}:{port}")
        self._listeners.append(listener)
        return listener

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for listener in reversed(self._listeners):
            await listener.runner.cleanup()
        self._listeners.clear()
        for fn in reversed(self._cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001 - one failing cleanup must not stop the others
                log.exception("cleanup hook failed")
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if self.config.ready_file is not None:
            self.config.ready_file.unlink(missing_ok=True)

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- VMs -------------------------------------------------------------------------------------------------
    def _schedule_vm_sync(self) -> None:
        self._spawn(self.sync_vm_listeners())

    async def sync_vm_listeners(self) -> None:
        """Give every VM its IMDS and extension listeners; close those of deleted VMs."""
        async with self._vm_sync_lock:
            current = {vm["id"].lower(): vm["id"] for vm in self.world.vms()}
            for key in [k for k in self._vm_listeners if k not in current]:
                for listener in self._vm_listeners.pop(key):
                    self._listeners.remove(listener)
                    await listener.runner.cleanup()
            for key, vm_id in current.items():
                if key in self._vm_listeners:
                    continue
                imds_listener = await self._serve("imds", imds.make_imds_app(self.context, vm_id, self.imds_limiter),
                                                  _bind(self.config.host, 0), None)
                ext_listener = await self._serve("vm_extension", imds.make_extension_app(self.context, vm_id),
                                                 _bind(self.config.host, 0), None)
                self._vm_listeners[key] = (imds_listener, ext_listener)

    def vm_entries(self) -> list[dict]:
        entries = []
        for vm in self.world.vms():
            listeners = self._vm_listeners.get(vm["id"].lower())
            entry = {"id": vm["id"], **_vm_parts(vm["id"]), "vm_id": vm["properties"].get("vmId")}
            entry["imds_endpoint"] = listeners[0].base_url if listeners else None
            entry["vm_extension_endpoint"] = listeners[1].base_url if listeners else None
            entries.append(entry)
        return entries

    # -- principals and federated tokens ---------------------------------------------------------------------
    def write_federated_tokens(self) -> None:
        """Sign a token for each declared federated credential, as a workload-identity webhook would project."""
        now = int(self.world.now())
        for principal in self.world.principals.values():
            if not principal.federated:
                continue
            cred = principal.federated[0]
            token = self.issuer.sign({"iss": cred["issuer"], "sub": cred["subject"], "aud": cred["audiences"][0],
                                      "iat": now, "nbf": now, "exp": now + FEDERATED_TOKEN_LIFETIME,
                                      "jti": str(uuid.uuid4())}, x5t=False)
            path = self.workdir / f"federated-token-{principal.object_id}"
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(token)
            os.replace(tmp, path)
            self.federated_token_files[principal.object_id] = path

    async def _refresh_federated_tokens(self) -> None:
        while True:
            await asyncio.sleep(FEDERATED_TOKEN_REFRESH)
            self.write_federated_tokens()

    def create_application(self, body: dict) -> dict:
        """``POST /principals``: a new application service principal (its replication delay starts now)."""
        allowed = {"display_name", "client_id", "object_id", "secret", "graph_permissions"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; allowed: {sorted(allowed)}")
        roles = body.get("graph_permissions") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
            raise ValueError("graph_permissions must be a list of Graph application permission names, "
                             "e.g. [\"Directory.Read.All\"]")
        secret = body.get("secret") or Minter(new_salt()).secret("new")
        fields = {k: body[k] for k in ("client_id", "object_id") if body.get(k)}
        name = body.get("display_name") or f"app-{uuid.uuid4().hex[:8]}"
        principal = self.world.add_principal(name=name, display_name=name, kind="application", secrets=[secret],
                                             graph_roles=list(roles), **fields)
        self.world.commit()
        return self._sp_entry(principal)

    def _sp_entry(self, principal) -> dict:
        entry = {"name": principal.name or principal.display_name, "display_name": principal.display_name,
                 "client_id": principal.client_id, "client_secret": principal.secrets[0] if principal.secrets else None,
                 "object_id": principal.object_id, "created_at": principal.created_at}
        path = self.federated_token_files.get(principal.object_id)
        if path is not None:
            entry["federated_token_file"] = str(path)
        return entry

    # -- views -----------------------------------------------------------------------------------------------
    def info(self) -> dict:
        return {
            "arm_endpoint": self.arm_endpoint, "authority_host": self.authority_host,
            "graph_endpoint": self.graph_endpoint,
            "tenant_id": self.world.tenant_id, "ca_bundle": str(self.pki.ca_bundle),
            "control_endpoint": self.control_endpoint,
            "subscriptions": [{"subscription_id": s["subscriptionId"], "display_name": s["displayName"]}
                              for s in self.world.subscriptions.values()],
            "service_principals": [self._sp_entry(p) for p in self.world.principals.values()
                                   if p.kind == "application"],
            "vms": self.vm_entries(),
            "identity_endpoints": self.identity_endpoints,
            "pid": os.getpid(),
        }

    def public_state(self) -> dict:
        """``GET /state``: the world without key material."""
        state = self.world.to_state()
        state.pop("keys")
        state["role_definitions"] = self.world.role_definitions
        state["knobs"] = self.knobs.to_dict()
        return state

    async def reset(self) -> None:
        """Back to the seed as built at start (same generated IDs and secrets); counters, faults, knobs reset."""
        keys, extra = self.world.keys, self.world.extra
        self.world.restore(self._seed_snapshot)
        self.world.keys, self.world.extra = keys, extra
        self.knobs.update(self._start_knobs.to_dict())
        self.counters.reset()
        self.faults.clear()
        self.arm_throttle.reset()
        self.imds_limiter.reset()
        self.entra_loops.reset()
        self.world.commit()
        await self.sync_vm_listeners()
