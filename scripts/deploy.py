"""Deploy a telcochain consortium and write its manifest.

    ape run deploy --network ethereum:local:foundry            # the local anvil node
    ape run deploy --network ethereum:consortium:node          # $TELCOCHAIN_RPC_URL (Besu, GoQuorum)

Reads ``$TELCOCHAIN_CONSORTIUM`` (default ``consortium.yaml``), deploys the contracts,
and writes ``deployments/<network>.json`` (directory: ``$TELCOCHAIN_DEPLOYMENTS_DIR``).
The deployer is the ape account named by ``$TELCOCHAIN_DEPLOYER`` (unattended, its
passphrase comes from ``APE_ACCOUNTS_<alias>_PASSPHRASE``); on a local network it defaults
to the first test account. A previous manifest for the same network is kept
under ``deployments/history/``.
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from ape import accounts, chain, networks, project

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_abis import compiled_abis
from telcochain.abi import abi_hash
from telcochain.consortium import AgreementConfig, ConsortiumConfig, load_consortium
from telcochain.deployment import DeployedContract, Deployment, default_deployments_dir
from telcochain.errors import ConfigurationError

#: The Constitution's business modules, in deployment order; each is constructed with the
#: Constitution's address and gets its actions from ``consortium.yaml``.
MODULES = ("AssetRegistry", "OrderBook", "DetailsVault", "CustomerRegistry")


def _deployer():  # type: ignore[no-untyped-def]
    alias = os.environ.get("TELCOCHAIN_DEPLOYER")
    if alias:
        account = accounts.load(alias)
        if not sys.stdin.isatty():
            # Unattended (CI, automation): the passphrase comes from APE_ACCOUNTS_<alias>_PASSPHRASE.
            account.set_autosign(True)
        return account
    if networks.provider.network.is_local:
        return accounts.test_accounts[0]
    raise click.ClickException("set TELCOCHAIN_DEPLOYER to the ape account that deploys (ape accounts list)")


def _record(name: str, contract, abis: dict) -> DeployedContract:  # type: ignore[no-untyped-def]
    receipt = chain.get_receipt(contract.txn_hash)
    return DeployedContract(name, contract.address, receipt.block_number, str(receipt.txn_hash), abi_hash(abis[name]))


def genesis(constitution, config: ConsortiumConfig, modules: dict, deployer) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Define the configured actions and permissions, then seal: from now on only actions change policy.

    Runs after every contract is deployed (the agreement's included): module and ``callers``
    names resolve to addresses here, and each definition pins its module's code hash."""
    for action in config.actions:
        try:
            policy = action.to_policy({name: c.address for name, c in modules.items()})
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from None
        grants = [p.to_tuple() for p in action.permissions()]
        constitution.genesisDefineAction(policy.to_tuple(), grants, sender=deployer)
    constitution.sealGenesis(sender=deployer)


def deploy_agreement(  # type: ignore[no-untyped-def]
    agreement: AgreementConfig, constitution, registry, deployer, customers, orders=None
) -> dict:  # type: ignore[type-arg]
    """The settlement token (made here unless an existing one is named), the escrow and the
    operator agreement with the configured terms; mints the configured starting balances."""
    made = {}
    token_address = agreement.token.address
    if token_address is None:
        t = agreement.token
        # the starting balances are minted by the constructor; later only the voted mintSettlement action mints
        holders = [member for member, _ in t.mint]
        amounts = [amount for _, amount in t.mint]
        token = project.SettlementToken.deploy(
            constitution.address, t.name, t.symbol, t.decimals, holders, amounts, sender=deployer
        )
        made["SettlementToken"] = token
        token_address = token.address
    escrow = project.EscrowPayment.deploy(constitution.address, agreement.confirmation_window, sender=deployer)
    made["EscrowPayment"] = escrow
    made["OperatorAgreement"] = project.OperatorAgreement.deploy(
        constitution.address,
        registry.address,
        escrow.address,
        customers.address,
        agreement.operator,
        agreement.terms(token_address),
        sender=deployer,
    )
    if orders is not None:  # vendor settlement (issue 14): the operator pays the vendors of its order lines
        made["VendorSettlement"] = project.VendorSettlement.deploy(
            constitution.address, orders.address, agreement.operator, sender=deployer
        )
    return made


def deploy_contracts(config: ConsortiumConfig, deployer, modules: tuple[str, ...] = MODULES) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    """The Constitution (genesis still open) and the ``modules`` (default: every business module),
    with the agreement's contracts when the config has one; returns (constitution, {name: contract}).

    The contract tests build their worlds with this and :func:`genesis` (tests/support/worlds.py),
    deploying only the modules a world's actions name."""
    founders = [(m.address, m.trust_key, m.name) for m in config.members]
    constitution = project.Constitution.deploy(founders, sender=deployer)
    made = {name: getattr(project, name).deploy(constitution.address, sender=deployer) for name in modules}
    if config.agreement is not None:
        made.update(
            deploy_agreement(
                config.agreement,
                constitution,
                made["AssetRegistry"],
                deployer,
                made["CustomerRegistry"],
                made.get("OrderBook"),
            )
        )
    return constitution, made


def deploy(config: ConsortiumConfig, deployer) -> Deployment:  # type: ignore[no-untyped-def]
    """Deploy every contract of the consortium; returns the manifest (not yet written)."""
    abis = compiled_abis()
    constitution, modules = deploy_contracts(config, deployer)
    contracts = {"Constitution": _record("Constitution", constitution, abis)}
    contracts.update({name: _record(name, module, abis) for name, module in modules.items()})
    genesis(constitution, config, modules, deployer)
    return Deployment(
        network=networks.provider.network.name,
        chain_id=networks.provider.chain_id,
        contracts=contracts,
        deployer=str(deployer.address),
        deployed_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        consortium={
            "name": config.name,
            "config_hash": config.source_hash,
            "serial_salt": "0x" + config.serial_salt.hex(),
            "roles": {m.address: m.role for m in config.members},
        },
    )


def main() -> None:
    try:
        config = load_consortium()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    deployment = deploy(config, _deployer())
    target = default_deployments_dir() / f"{deployment.network}.json"
    if target.exists():
        history = target.parent / "history"
        history.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, history / f"{deployment.network}-{int(target.stat().st_mtime)}.json")
    deployment.save(target)
    for contract in deployment.contracts.values():
        click.echo(f"{contract.name:<14} {contract.address}  (block {contract.block})")
    click.echo(f"manifest: {target}")
