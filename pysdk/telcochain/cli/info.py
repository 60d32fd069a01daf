"""``telcochain info``: the chain and the deployment this client talks to."""

from __future__ import annotations

import click

from telcochain import output
from telcochain.cli.options import (
    CliSession,
    json_option,
    reader_options,
)


@click.command()
@reader_options
@json_option
def info(session: CliSession, as_json: bool) -> None:
    """Show the chain and the deployment this client talks to."""
    client = session.reader()
    members = client.constitution.member_count()
    manifest = client.deployment
    data = {
        "rpc_url": client.rpc.url,
        "chain_id": client.chain.chain_id,
        "fee_mode": client.chain.fee_mode.value,
        "gas_price": client.chain.gas_price,
        "block_number": client.block_number(),
        "network": manifest.network,
        "manifest": str(manifest.path) if manifest.path else None,
        "deployed_at": manifest.deployed_at,
        "consortium": manifest.consortium.get("name"),
        "members": members,
        "contracts": {c.name: {"address": c.address, "block": c.block} for c in manifest.contracts.values()},
    }
    if as_json:
        output.emit_json(data)
        return
    output.pairs(
        "Chain",
        [
            ("RPC URL", data["rpc_url"]),
            ("chain id", data["chain_id"]),
            (
                "fees",
                f"{data['fee_mode']}, gas price {data['gas_price']}" + (" (free gas)" if client.chain.free_gas else ""),
            ),
            ("block", data["block_number"]),
        ],
    )
    output.pairs(
        "Deployment",
        [
            ("consortium", data["consortium"]),
            ("network", data["network"]),
            ("manifest", data["manifest"]),
            ("deployed", data["deployed_at"]),
            ("members", members),
        ],
    )
    output.table(
        None,
        ["contract", "address", "block"],
        [[c.name, c.address, c.block] for c in manifest.contracts.values()],
    )
