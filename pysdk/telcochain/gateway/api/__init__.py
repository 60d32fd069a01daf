"""The TMF Open APIs of the gateway, one router per resource:

- :mod:`.service_order` — TMF641 Service Ordering (``/serviceOrdering/v4/serviceOrder``,
  ``/serviceOrdering/v4/cancelServiceOrder``), MACD as order items;
- :mod:`.resource` — TMF639 Resource Inventory (``/resourceInventoryManagement/v4/resource``);
- :mod:`.service` — TMF638 Service Inventory (``/serviceInventory/v4/service``);
- :mod:`.customer_bill` — TMF678 Customer Bill (``/customerBillManagement/v4/customerBill``).
"""

from __future__ import annotations

import importlib

from fastapi import FastAPI

from telcochain.gateway.state import GatewayState

ROUTERS = ("service_order", "resource", "service", "customer_bill")


def install(app: FastAPI, state: GatewayState) -> None:
    for name in ROUTERS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # not written yet
            raise
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(app, state)
        app.include_router(module.router)
