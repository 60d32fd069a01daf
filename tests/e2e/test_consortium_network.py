"""Deploying to the `consortium` network (Besu / GoQuorum) as an operator would: the RPC URL
from TELCOCHAIN_RPC_URL, an encrypted ape keystore as deployer, no terminal."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from eth_account import Account
from telcochain import Client
from telcochain.node import LocalNode, NodeConfig, free_port

from tests.support.paths import BIN, ROOT

pytestmark = pytest.mark.slow


def test_deploy_to_the_consortium_network_with_a_keystore_deployer(tmp_path, dev_accounts):
    # A chain that looks like the docs' Besu network: chain id 1337, berlin, free gas.
    node = LocalNode(NodeConfig(data_dir=tmp_path / "node", port=free_port(), chain_id=1337, persist=False))
    node.start()
    try:
        ape_data = tmp_path / "ape"
        (ape_data / "accounts").mkdir(parents=True)
        deployer = dev_accounts[4]
        keystore = Account.encrypt(deployer.key, "deploy-pass")
        (ape_data / "accounts" / "founder.json").write_text(json.dumps(keystore))
        env = dict(
            os.environ,
            APE_DATA_FOLDER=str(ape_data),
            TELCOCHAIN_RPC_URL=node.config.rpc_url,
            TELCOCHAIN_DEPLOYER="founder",
            APE_ACCOUNTS_founder_PASSPHRASE="deploy-pass",
            TELCOCHAIN_DEPLOYMENTS_DIR=str(tmp_path / "deployments"),
        )
        result = subprocess.run(
            [str(BIN / "ape"), "run", "deploy", "--network", "ethereum:consortium:node"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        manifest = tmp_path / "deployments" / "consortium.json"
        data = json.loads(manifest.read_text())
        assert data["network"] == "consortium" and data["chain_id"] == 1337
        assert data["deployer"] == deployer.address
        client = Client.connect(node.config.rpc_url, deployment=manifest)
        assert client.constitution.member_count() == 4
        tx = client.rpc.call("eth_getTransactionByHash", [data["contracts"]["Constitution"]["tx_hash"]])
        assert tx["type"] == "0x0" and int(tx["gasPrice"], 16) == 0
    finally:
        node.stop()


def test_deploying_to_a_real_network_without_a_deployer_is_refused(tmp_path):
    node = LocalNode(NodeConfig(data_dir=tmp_path / "node", port=free_port(), chain_id=1337, persist=False))
    node.start()
    try:
        env = dict(os.environ, TELCOCHAIN_RPC_URL=node.config.rpc_url, TELCOCHAIN_DEPLOYMENTS_DIR=str(tmp_path))
        env.pop("TELCOCHAIN_DEPLOYER", None)
        result = subprocess.run(
            [str(BIN / "ape"), "run", "deploy", "--network", "ethereum:consortium:node"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode != 0
        assert "set TELCOCHAIN_DEPLOYER" in result.stdout + result.stderr
        assert not list(tmp_path.glob("*.json"))
    finally:
        node.stop()
