"""``telcochain serve``: one member's TM Forum Open API gateway (FastAPI + uvicorn).

>>> from telcochain.gateway import GatewaySettings, create_app
>>> app = create_app(GatewaySettings.load("gateway.yaml"))     # doctest: +SKIP
>>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8080)  # doctest: +SKIP

Modules: :mod:`.settings` (the YAML config), :mod:`.auth` (bearer tokens, stored hashed),
:mod:`.errors` (TMF error objects), :mod:`.app` (``create_app``, the shared state and the
extension point for the hub and the console), :mod:`.api` (the TMF routers). docs/tmf.md has
the mapping of telcochain's concepts to TMF resources and states.
"""

from __future__ import annotations

from telcochain.gateway.app import EXTENSIONS, GatewayState, create_app, get_state, state_of
from telcochain.gateway.auth import Principal, TokenStore, require_principal
from telcochain.gateway.errors import ApiError, TmfError
from telcochain.gateway.settings import GatewaySettings

__all__ = [
    "EXTENSIONS",
    "ApiError",
    "GatewaySettings",
    "GatewayState",
    "Principal",
    "TmfError",
    "TokenStore",
    "create_app",
    "get_state",
    "require_principal",
    "state_of",
]
