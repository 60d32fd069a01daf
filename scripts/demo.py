"""`make demo`: start the local chain, deploy the example consortium, tell the story.

Runs twice without trouble: a node already running from .telcochain/node is reused, and a
deployment that is still on the chain is not made again. The node this script starts is
stopped at the end; its state stays, so `telcochain node --detach` brings it all back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from eth_account import Account
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from telcochain import Client, PermissionDenied, TelcochainError
from telcochain.assets import AssetState
from telcochain.cli_orders import order_tree
from telcochain.consortium import load_consortium
from telcochain.deployment import Deployment
from telcochain.errors import (
    AssetNotFound,
    AssetSerialRequired,
    ConstitutionInvalidTrustKey,
    NodeError,
    OrderProjectNotFound,
)
from telcochain.node import DEV_MNEMONIC, LocalNode, NodeConfig
from telcochain.orders import ChangePolicy, DeviceLine, Revision
from telcochain.types import show_bytes32

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("TELCOCHAIN_DEMO_PORT", "8545"))
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def step(title: str) -> None:
    console.print()
    console.rule(f"[bold]{title}", align="left")


def dev_account(index: int):  # type: ignore[no-untyped-def]
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def ensure_node() -> tuple[LocalNode, bool]:
    node = LocalNode(NodeConfig(data_dir=ROOT / ".telcochain" / "node", port=PORT))
    if node.pid() is not None and node.is_serving():
        console.print(f"reusing the local chain already running at {node.config.rpc_url} (pid {node.pid()})")
        return node, False
    restored = node.config.state_file.exists()
    try:
        node.start(detach=True)
    except NodeError as exc:
        raise SystemExit(f"demo: {exc} (e.g. make demo TELCOCHAIN_DEMO_PORT=8555)") from None
    what = "restored from" if restored else "new, saved to"
    console.print(f"anvil at {node.config.rpc_url}: berlin, gas price 0 — state {what} {node.config.state_file}")
    return node, True


def ensure_deployment(rpc_url: str) -> Deployment:
    manifest = ROOT / "deployments" / "local.json"
    config_hash = load_consortium(ROOT / "consortium.yaml").source_hash
    if manifest.exists():
        try:
            client = Client.connect(rpc_url, deployment=manifest)
            if client.deployment.consortium.get("config_hash") == config_hash:
                console.print(f"the consortium is already deployed (block {client.deployment.start_block}): reusing it")
                return client.deployment
            console.print("[yellow]consortium.yaml changed since the last deployment: deploying again")
        except TelcochainError as exc:
            console.print(f"[yellow]the saved deployment does not fit this chain ({exc}); deploying again")
    console.print("ape run deploy --network ethereum:local:foundry")
    started = time.monotonic()
    env = dict(os.environ, APE_FOUNDRY_HOST=rpc_url, TELCOCHAIN_DEPLOYMENTS_DIR=str(ROOT / "deployments"))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ape"), "run", "deploy", "--network", "ethereum:local:foundry"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        console.print(result.stdout[-2000:], result.stderr[-2000:])
        raise SystemExit("deploy failed")
    console.print(f"deployed in {time.monotonic() - started:.1f} s → deployments/local.json")
    return Deployment.load(manifest)


def install_twin(operator: Client, vendor: Client, twin: str) -> None:
    """Drive the twin to Active from wherever it is: a demo interrupted halfway picks up where it stopped."""
    try:
        asset = operator.assets.get(twin)
        if asset.state is not AssetState.ACTIVE:
            console.print(f"{twin} was left {asset.state.label} by an earlier run: carrying on from there")
    except AssetNotFound:
        operator.assets.register(twin, "ONT", root_id="PRJ-INITECH-HQ", order_id="CRM-000451", ref="TWIN-REG")
        console.print(f"Northwind registers {twin} (Planned), linked to project PRJ-INITECH-HQ / order CRM-000451")
        asset = operator.assets.get(twin)
    if asset.state is AssetState.PLANNED:
        operator.assets.schedule_installation(twin, ref="WO-1001")
        console.print("Northwind schedules the installation")
        asset = operator.assets.get(twin)
    if asset.state is AssetState.PENDING_INSTALLATION:
        vendor.assets.deliver(twin, ref="DLV-88")
        console.print("Acme Networks delivers the device on site")
        asset = operator.assets.get(twin)
    if asset.state is not AssetState.DELIVERED:
        console.print(f"{twin} is {asset.state.label}")
        return
    if asset.serial_hash is None:
        try:
            operator.assets.commission(twin)
        except AssetSerialRequired:
            console.print("[red]commission refused[/red]: a twin cannot become Active without its device serial")
        bind = vendor.assets.bind_serial(twin, "ACME-ONT-7731-XK", ref="SERIAL-7731")
        console.print(f"Acme proposes the serial (only its salted hash goes on chain): proposal #{bind.proposal_id}")
        vote = operator.constitution.vote(bind.proposal_id, approve=True, ref="SERIAL-OK")
        console.print(f"Northwind approves → {vote.proposal.status.name.lower()}: serial bound")
    operator.assets.commission(twin, ref="WO-1001-DONE")
    console.print(f"Northwind commissions {twin}: Active")


def demo_run(operator: Client) -> int:
    """This run's number: every run tells the story again with fresh ids (PRJ-INITECH-1, -2, ...)."""
    n = 1
    while True:
        try:
            operator.orders.project(f"PRJ-INITECH-{n}", with_orders=False)
        except OrderProjectNotFound:
            return n
        n += 1


def show_order(client: Client, order: str) -> None:
    names = {m.address: m.name for m in client.constitution.members()}
    console.print(order_tree(client.orders.get(order), names))


def multi_site_order(op: Client, acme: Client, globex: Client, customer: Client, run: int) -> str:
    """A project with a multi-site order: one service per site, a device line per device."""
    project, order = f"PRJ-INITECH-{run}", f"CRM-{run}-SITES"
    op.orders.create_project(project, customer.address, ref=f"PRJ-{run}")
    op.orders.create_order(order, project, ref=f"CRM-{run}")
    sites = [
        ("HQ-FIBRE", DeviceLine(f"{run}-HQ-ONT", "HQ-FIBRE", acme.address, "ONT-XGS", 1, asset=f"ONT-HQ-{run}")),
        ("BR1-FIBRE", DeviceLine(f"{run}-BR1-ONT", "BR1-FIBRE", acme.address, "ONT-XGS", 1, asset=f"ONT-BR1-{run}")),
        ("BR2-SDWAN", DeviceLine(f"{run}-BR2-RTR", "BR2-SDWAN", globex.address, "SDWAN-E1", 1, asset=f"RTR-BR2-{run}")),
    ]
    for service, line in sites:
        op.assets.register(str(line.asset), "CPE", root_id=project, order_id=order)
        op.orders.add_service(order, service)
        op.orders.add_device_line(order, line)
    console.print(
        f"Northwind opens project {project} for Initech and order {order}: three sites, a service item and a "
        "managed device each (their twins move to PendingInstallation as the lines are ordered)"
    )
    show_order(customer, order)
    return order


def seed_revision(op: Client, acme: Client, globex: Client, customer: Client, run: int) -> None:
    """Seed 001, 'Test approach resiliency': services A-E, devices added late, then a redesign."""
    project, order = f"PRJ-INITECH-{run}", f"CRM-{run}-REDESIGN"
    op.orders.create_order(order, project)
    for service in "ABCDE":
        op.orders.add_service(order, service)
    lines = {
        "A1": DeviceLine(f"{run}-A1", "A", acme.address, "ONT-X", 1, asset=f"ONT-A1-{run}"),
        "D1": DeviceLine(f"{run}-D1", "D", globex.address, "CABLE-Y", 10),
        "D2": DeviceLine(f"{run}-D2", "D", globex.address, "ROUTER-Y", 1, asset=f"RTR-D2-{run}"),
    }
    for line in lines.values():
        if line.asset:
            op.assets.register(str(line.asset), "CPE", root_id=project, order_id=order)
        op.orders.add_device_line(order, line)
    acme.orders.deliver(f"{run}-A1")
    globex.orders.deliver(f"{run}-D2")
    globex.orders.deliver(f"{run}-D1", 4)
    op.orders.consume(f"{run}-D1", globex.address, "CABLE-Y", 2)
    console.print(
        "order with services A-E; late in design devices A1 (Acme), D1 (10 cables) and D2 (Globex) are ordered; "
        "A1 and D2 are delivered, 4 cables delivered and 2 used"
    )
    op.assets.register(f"RTR-C1-{run}", "CPE", root_id=project, order_id=order)
    streams = {name: c.notifications() for name, c in (("Acme Networks", acme), ("Globex Optical", globex))}
    for stream in streams.values():
        stream.start_at(op.block_number() + 1)  # each supplier's getNotification, from the revision on
    revision = (
        Revision()
        .modify_service("A", 2)
        .keep_service("B")
        .modify_service("C", 2)
        .keep_service("D")
        .delete_service("E")
        .remove_line(f"{run}-A1")
        .remove_line(f"{run}-D2")
        .keep_line(f"{run}-D1", ChangePolicy.PAUSE)
        .add_line(DeviceLine(f"{run}-C1", "C", acme.address, "ROUTER-X", 1, asset=f"RTR-C1-{run}"))
    )
    result = op.orders.revise(order, revision, ref=f"REV-{run}")
    console.print(
        f"the customer redesigns: A → A', B, C → C', D, no E; devices (A1, D1, D2) → (C1, D1) — one action "
        f"(tx {result.receipt.tx_hash[:18]}…): D1 Pause, C1 AutoCorrect"
    )
    show_order(customer, order)
    for name, stream in streams.items():
        seen = [n for n in stream.poll() if "lineId" in n.args]
        told = ", ".join(f"{n.name}({show_bytes32(n.args['lineId'])})" for n in seen)
        console.print(f"{name} is told (its own lines only): {told}")
    op.orders.resume(order, [f"{run}-D1"], ref=f"REPLAN-OK-{run}")
    console.print("the re-plan is agreed: D1 resumes; A1 and D2 were delivered, so their twins went to recovery")
    rec = op.orders.reconcile(order=order)
    t = rec.totals
    console.print(
        f"stock reconciliation of {order}: reserved {t.reserved}, released {t.released}, delivered {t.delivered}, "
        f"used {t.consumed}, returned {t.returned}, [bold]still out {t.still_out}[/bold] (A1, D2 and 2 cables "
        "to come back or be used)"
    )


def main() -> int:
    console.print(
        Panel.fit(
            "[bold]telcochain[/bold] — one trusted record of customer orders, network assets and payments\n"
            "for a telecom consortium: operators, vendors, suppliers and enterprise customers.",
            border_style="cyan",
        )
    )
    step("1. The chain: an embedded anvil node, as a free-gas consortium chain runs")
    node, started_here = ensure_node()
    try:
        step("2. The consortium, deployed from consortium.yaml")
        deployment = ensure_deployment(node.config.rpc_url)
        config = load_consortium(ROOT / "consortium.yaml")
        operator = Client.connect(node.config.rpc_url, dev_account(0), deployment=deployment)
        chain = operator.chain
        console.print(
            f"chain {chain.chain_id}, {chain.fee_mode.value} transactions, gas price {chain.gas_price}; "
            f"Constitution at {deployment.address('Constitution')}"
        )
        members = operator.constitution.members()
        grid = Table(title=f"{config.name}: {len(members)} members", title_justify="left")
        for column in ("member", "role", "address", "status", "trust key"):
            grid.add_column(column, no_wrap=True)
        roles = deployment.consortium.get("roles", {})
        for m in members:
            grid.add_row(
                m.name, roles.get(m.address, "-"), m.address, m.status.name.lower(), "0x" + m.trust_key.hex()[:12] + "…"
            )
        console.print(grid)

        vendor_a = Client.connect(node.config.rpc_url, dev_account(1), deployment=deployment)
        vendor_b = Client.connect(node.config.rpc_url, dev_account(2), deployment=deployment)
        customer = Client.connect(node.config.rpc_url, dev_account(3), deployment=deployment)

        step("3. Governance: the operator proposes a new member; the consortium votes")
        candidate = dev_account(4)
        if operator.constitution.member(candidate.address) is None:
            result = operator.constitution.add_member(
                candidate.address, os.urandom(32), "Umbrella Fibre", ref="JOIN-UMBRELLA"
            )
            proposal = operator.constitution.proposal(result.proposal_id)
            console.print(
                f"{members[0].name} → executeAction(addMember, Umbrella Fibre): proposal #{proposal.id} opened, "
                f"{proposal.approvals}/{proposal.required} approvals (a majority of {proposal.voter_count})"
            )
            for who, client in (("Acme Networks", vendor_a), ("Globex Optical", vendor_b)):
                vote = client.constitution.vote(result.proposal_id, approve=True, ref=f"VOTE-{who[:5].upper()}")
                state = vote.proposal.status.name.lower()
                console.print(f"{who} votes yes → {vote.proposal.approvals}/{vote.proposal.required}, {state}")
        admitted = operator.constitution.member(candidate.address)
        console.print(f"[green]member:[/green] {admitted.name if admitted else '?'} ({candidate.address})")

        step("4. A member rotates its trust key (the seed's refreshTrustKeys), with a correlation ref")
        result = customer.constitution.rotate_trust_key(os.urandom(32), ref="DEMO-KEY-ROTATION")
        receipt = result.receipt
        (event,) = customer.contract("Constitution").events(receipt, "TrustKeyRefreshed")
        console.print(
            f"Initech Enterprise: tx {receipt.tx_hash[:18]}… in block {receipt.block_number}, "
            f"{receipt.gas_used:,} gas at price 0; event TrustKeyRefreshed(ref={show_bytes32(event['ref'])!r})"
        )

        step("5. A digital twin: an ONT installed at Initech's site, its serial agreed by operator and vendor")
        twin = "ONT-INITECH-001"
        install_twin(operator, vendor_a, twin)
        history = operator.assets.history(twin)
        grid = Table(title=f"history of {twin}", title_justify="left")
        for column in ("#", "change", "by", "ref"):
            grid.add_column(column, no_wrap=True)
        names = {m.address: m.name for m in operator.constitution.members()}
        for change in history:
            grid.add_row(
                str(change.version), change.describe(), names.get(change.actor, change.actor), show_bytes32(change.ref)
            )
        console.print(grid)
        console.print(f"[green]{operator.assets.verify_history(twin, history)}[/green] (recomputed from the events)")

        run = demo_run(operator)
        step(f"6. A project with a multi-site order (run {run}: every run tells the story with fresh ids)")
        multi_site_order(operator, vendor_a, vendor_b, customer, run)

        step("7. Seed 001's resiliency scenario: an order redesigned mid-flight, Pause and AutoCorrect per device")
        seed_revision(operator, vendor_a, vendor_b, customer, run)

        step("8. Misuse is on record: what is not permitted is refused, not silently dropped")
        try:
            overreach = vendor_a.constitution.amend(vendor_a.constitution.policy("voteFor"), ref="DEMO-OVERREACH")
            console.print(f"[yellow]Acme Networks may amend the constitution here: {overreach.status}")
        except PermissionDenied as exc:
            console.print(f"[red]denied[/red] (tx {exc.tx_hash[:18]}…, an ActionDenied event): {exc}")
        outsider = Client.connect(node.config.rpc_url, dev_account(9), deployment=deployment)
        try:
            outsider.constitution.rotate_trust_key(os.urandom(32), ref="DEMO-INTRUDER")
        except PermissionDenied as exc:
            console.print(f"[red]denied[/red]: {exc}")
        try:
            customer.constitution.rotate_trust_key(bytes(32))
        except ConstitutionInvalidTrustKey as exc:
            console.print(f"[red]refused before sending[/red], the contract's custom error decoded by the SDK: {exc}")

        step("Done")
        console.print("Explore it yourself (see README.md, 'A five-minute tour'):")
        console.print("  source .venv/bin/activate && telcochain node --detach")
        console.print("  telcochain member list; telcochain action list; telcochain proposal list")
    finally:
        if started_here:
            node.stop()
            console.print(f"\nlocal chain stopped; its state is kept in {node.config.data_dir}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TelcochainError as exc:
        sys.exit(f"demo: {exc}")
