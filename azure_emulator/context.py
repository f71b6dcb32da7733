"""What the Azure-facing apps (Entra ID, ARM, Graph, IMDS and the other managed-identity sources) share.

The Emulator builds one ``AppContext`` once its listeners have their ports and hands it to each app, together with
the one or two stateful helpers that app alone uses (Entra ID's loop detector, IMDS's limiter). The apps never see
the Emulator itself, so none of them imports ``emulator.py`` and the Emulator stays the only place that wires them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tokens import TokenIssuer
    from .world import World


@dataclass(frozen=True)
class AppContext:
    world: World            # mutated in place (ARM writes, POST /reset), never replaced
    issuer: TokenIssuer     # signs and verifies every token the emulator deals in
    arm_endpoint: str       # "https://127.0.0.1:PORT/": accepted token audience, base of nextLink and metadata
    authority_host: str     # Entra ID's base URL: issuer metadata and WWW-Authenticate challenges
    graph_endpoint: str     # Microsoft Graph's base URL: accepted token audience, base of @odata.nextLink
