"""scripts/deploy.py: what it deploys and the manifest it writes."""

from __future__ import annotations

import json

import yaml
from telcochain.abi import abi_hash, load_abi
from telcochain.consortium import load_consortium
from telcochain.constitution import Member
from telcochain.deployment import Deployment
from telcochain.rpc import Rpc
from telcochain.tx import hexint

from tests.support.paths import ROOT


def test_manifest_records_chain_contracts_blocks_and_abi_hashes(local_node, deployment_path):
    data = json.loads(deployment_path.read_text())
    assert data["network"] == "local"
    assert data["chain_id"] == 31337
    constitution = data["contracts"]["Constitution"]
    assert constitution["abi_hash"] == abi_hash(load_abi("Constitution"))
    rpc = Rpc(local_node.rpc_url)
    receipt = rpc.call("eth_getTransactionReceipt", [constitution["tx_hash"]])
    assert hexint(receipt["blockNumber"]) == constitution["block"]
    assert receipt["contractAddress"].lower() == constitution["address"].lower()
    assert rpc.call("eth_getCode", [constitution["address"], "latest"]) not in ("0x", None)


def test_manifest_records_the_consortium_it_was_made_from(deployment_path):
    manifest = Deployment.load(deployment_path)
    config = load_consortium(ROOT / "consortium.yaml")
    assert manifest.consortium["name"] == config.name
    assert manifest.consortium["config_hash"] == config.source_hash
    assert manifest.consortium["roles"] == {m.address: m.role for m in config.members}


def test_founding_members_from_the_config_are_on_chain(client):
    config = yaml.safe_load((ROOT / "consortium.yaml").read_text())
    # Every test starts from the freshly deployed consortium (the chain is reverted after each
    # test), so the latest state is the deployment's. (Reading at the deployment block asked anvil
    # for a historical state it does not always keep after snapshots and reverts.)
    page = client.contract("Constitution").call("members", 0, 100)
    on_chain = {m.address: m for m in map(Member.from_tuple, page)}
    assert len(on_chain) == len(config["members"])
    for entry in config["members"]:
        member = on_chain[entry["address"]]
        assert member.name == entry["name"]
        assert "0x" + member.trust_key.hex() == entry["trust_key"]
        assert member.active
