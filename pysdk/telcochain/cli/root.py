"""The ``telcochain`` group: the command line for operations staff (cast-like conventions).

Every command that talks to the chain takes ``--rpc-url`` (env ``TELCOCHAIN_RPC_URL``) and
``--deployment FILE``; commands that send transactions take ``--account NAME`` (an
encrypted keystore, password by prompt or ``--password-file``). ``--json`` prints machine
output on stdout. A user error prints one line and exits non-zero.

This module only builds the root group and adds every command module's groups and commands to it,
by name; the command modules define plain click groups and never import this one.
"""

from __future__ import annotations

import click

from telcochain.cli import (
    accounts,
    agreement,
    assets,
    billing,
    customer_requests,
    customers,
    details,
    governance,
    index,
    info,
    keys,
    members,
    node,
    orders,
    serve,
    watch,
)
from telcochain.cli.options import CONTEXT, Group

# -- the group --------------------------------------------------------------------------------


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(package_name="telcochain", message="telcochain %(version)s")
def main() -> None:
    """telcochain: a consortium ledger for telecom orders, network assets and payments.

    \b
    Quick tour (local chain):
      telcochain node --detach              start the embedded chain
      ape run deploy --network ethereum:local:foundry
      telcochain info                       the chain and the deployment
      telcochain member list                the consortium's members
    """


# -- the command modules: one per group, assembled here (no command module imports this one) ---------

for _command in (
    info.info,
    members.member,
    governance.action,
    governance.proposal,
    governance.vote,
    assets.asset,
    watch.watch,
    keys.keys,
    accounts.account,
    node.node,
    agreement.install,
    agreement.macd,
    agreement.disconnect,
    agreement.invoice,
    billing.vendor,
    customers.customer,
    customers.terms,
    customers.consent,
    details.details,
    index.index,
    index.denials,
    index.report,
    index.alerts,
    orders.order,
    orders.stock,
    serve.serve,
):
    main.add_command(_command)
for _command in billing.INVOICE_COMMANDS:  # invoice dispute|resolve|instalments|payout|accrue
    agreement.invoice.add_command(_command)
keys.keys.add_command(details.keys_new)
customers.customer.add_command(customer_requests.customer_request)
# the index's list commands join the groups of the chain-reading commands
assets.asset.add_command(index.asset_list)
orders.order.add_command(index.order_list)
agreement.macd.add_command(index.macd_pending)
orders.stock.add_command(index.stock_outstanding)
members.member.add_command(index.member_activity)
index.extend_invoice_list(agreement.invoice_list)  # invoice list --from-index|--overdue
