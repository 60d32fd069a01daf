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
from telcochain.consortium import load_consortium
from telcochain.deployment import Deployment
from telcochain.errors import AssetNotFound, AssetSerialRequired, ConstitutionInvalidTrustKey, NodeError
from telcochain.node import DEV_MNEMONIC, LocalNode, NodeConfig
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

        step("6. Misuse is on record: what is not permitted is refused, not silently dropped")
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
