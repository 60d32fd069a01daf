"""Fee fields follow the chain: EIP-1559 where there is a base fee, legacy on Berlin."""

from __future__ import annotations

import pytest
from telcochain.node import LocalNode, NodeConfig, free_port
from telcochain.rpc import Rpc
from telcochain.tx import FeeMode, TxSender, hexint, probe_chain


@pytest.fixture(scope="module")
def london_node(tmp_path_factory):
    node = LocalNode(
        NodeConfig(
            data_dir=tmp_path_factory.mktemp("london"),
            port=free_port(),
            hardfork="london",
            gas_price=10**9,
            persist=False,
        )
    )
    node.start()
    yield node.config.rpc_url
    node.stop()


def test_a_london_chain_gets_eip1559_transactions(london_node, dev_accounts):
    rpc = Rpc(london_node)
    chain = probe_chain(rpc)
    assert chain.fee_mode is FeeMode.EIP1559
    assert chain.gas_price > 0
    sender = TxSender(rpc, dev_accounts[0], chain)
    receipt = sender.transact(dev_accounts[1].address, "0x", value=12345)
    tx = rpc.call("eth_getTransactionByHash", [receipt.tx_hash])
    assert hexint(tx["type"]) == 2
    assert hexint(tx["maxFeePerGas"]) >= chain.gas_price
    assert receipt.succeeded


def test_a_berlin_chain_gets_legacy_transactions_at_gas_price_zero(local_node, dev_accounts):
    rpc = Rpc(local_node.rpc_url)
    chain = probe_chain(rpc)
    assert chain.fee_mode is FeeMode.LEGACY and chain.gas_price == 0
    sender = TxSender(rpc, dev_accounts[5], chain)
    before = hexint(rpc.call("eth_getBalance", [dev_accounts[5].address, "latest"]))
    receipt = sender.transact(dev_accounts[6].address, "0x", value=1)
    after = hexint(rpc.call("eth_getBalance", [dev_accounts[5].address, "latest"]))
    assert hexint(rpc.call("eth_getTransactionByHash", [receipt.tx_hash])["type"]) == 0
    assert before - after == 1  # only the value moved: gas cost nothing
