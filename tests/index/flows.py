"""Traffic for the index tests: a normal flow like the demo's, and the misuse the alerts catch."""

from __future__ import annotations

import os
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from telcochain import Client
from telcochain.orders import DeviceLine


@dataclass
class Members:
    op: Client  # Northwind Telecom (operator)
    acme: Client  # Acme Networks (vendor)
    globex: Client  # Globex (vendor)
    customer: Client  # Initech Enterprise

    @classmethod
    def connect(cls, rpc_url: str, deployment: object, accounts: list[LocalAccount]) -> Members:
        clients = [Client.connect(rpc_url, accounts[n], deployment=deployment) for n in range(4)]  # type: ignore[arg-type]
        return cls(*clients)


def normal_flow(m: Members, run: str = "1") -> dict[str, str]:
    """A project, an order of two sites, delivery, installation paid through escrow, a MACD
    change, billing and payment — what a day of normal business looks like."""
    op, acme, customer = m.op, m.acme, m.customer
    project, order = f"PRJ-{run}", f"CRM-{run}"
    op.orders.create_project(project, customer.address, ref=f"PRJ-{run}")
    op.orders.create_order(order, project, ref=f"CRM-{run}")
    twins = []
    for site in ("HQ", "BR1"):
        twin, line = f"ONT-{site}-{run}", f"{run}-{site}-ONT"
        op.assets.register(twin, "CPE", serial=f"SN-{twin}", root_id=project, order_id=order)
        op.orders.add_service(order, f"{site}-FIBRE")
        op.orders.add_device_line(order, DeviceLine(line, f"{site}-FIBRE", acme.address, "ONT-XGS", 1, asset=twin))
        acme.orders.deliver(line, ref=f"DLV-{twin}")
        requested = customer.agreement.request_installation(twin, ref=f"INST-{twin}")
        customer.escrow.fund(requested.invoice_id, ref=f"PAY-{twin}")
        op.agreement.confirm_installation(twin, ref=f"DONE-{twin}")
        twins.append(twin)
    customer.agreement.request_change("change", twins[0], ref=f"UPGRADE-{run}")
    op.agreement.confirm_change(twins[0], ref=f"UPGRADE-DONE-{run}")
    op.agreement.request_change("move", twins[1], ref=f"MOVE-{run}")  # left pending: `macd pending` shows it
    billed = op.agreement.bill(customer.address, ref=f"BILL-{run}")
    customer.escrow.fund(billed.invoice_id, ref=f"PAY-BILL-{run}")
    return {"project": project, "order": order, "hq": twins[0], "br1": twins[1]}


def random_ref() -> str:
    return "0x" + os.urandom(32).hex()


def paid_installation(m: Members, twin: str, run: str) -> int:
    """A twin ordered, delivered and its installation paid into escrow, not yet confirmed;
    returns the invoice id."""
    op, acme, customer = m.op, m.acme, m.customer
    project, order = f"PRJ-{run}", f"CRM-{run}"
    if not _exists(op, project):
        op.orders.create_project(project, customer.address)
        op.orders.create_order(order, project)
    line = f"L-{twin}"
    op.assets.register(twin, "CPE", serial=f"SN-{twin}", root_id=project, order_id=order)
    op.orders.add_service(order, f"S-{twin}")
    op.orders.add_device_line(order, DeviceLine(line, f"S-{twin}", acme.address, "ONT-XGS", 1, asset=twin))
    acme.orders.deliver(line)
    requested = customer.agreement.request_installation(twin)
    customer.escrow.fund(requested.invoice_id)
    return int(requested.invoice_id)


def _exists(client: Client, project: str) -> bool:
    from telcochain.errors import OrderProjectNotFound

    try:
        client.orders.project(project, with_orders=False)
        return True
    except OrderProjectNotFound:
        return False


def advance(client: Client, seconds: int) -> None:
    """Move the chain's clock (the next block is ``seconds`` later)."""
    client.rpc.call("evm_increaseTime", [seconds])
    client.rpc.call("evm_mine", [])
