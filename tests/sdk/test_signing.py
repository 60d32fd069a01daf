"""telcochain.signing: the one signer, fee rule, nonce allocator and "node refused" classifier that
TxSender and the throughput Pipeline share."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from eth_account import Account
from telcochain.errors import ConfigurationError, RpcError
from telcochain.rpc import Rpc
from telcochain.signing import _REFUSALS, ChainInfo, FastSigner, FeeMode, Nonces, Refusal, classify_refusal, fee_fields
from telcochain.tx import TxSender, probe_chain

SDK = Path(__file__).resolve().parents[2] / "pysdk" / "telcochain"

#: Refusals of eth_sendRawTransaction as nodes word them → what they mean.
REFUSALS = [
    # anvil (measured: the pinned anvil, berlin, gas price 0)
    ("anvil", -32003, "transaction already imported", Refusal.KNOWN),
    ("anvil", -32003, "nonce too low", Refusal.NONCE_USED),
    ("anvil", -32003, "replacement transaction underpriced", Refusal.NONCE_USED),
    ("anvil", -32003, "Insufficient funds for gas * price + value", Refusal.REFUSED),
    ("anvil", -32000, "intrinsic gas too low", Refusal.REFUSED),
    ("anvil", -32000, "intrinsic gas too high -- tx.gas_limit > env.block.gas_limit", Refusal.REFUSED),
    # Hyperledger Besu (RpcErrorType: the JSON-RPC errors it documents)
    ("besu", -32000, "Known transaction", Refusal.KNOWN),
    ("besu", -32001, "Nonce too low", Refusal.NONCE_USED),
    ("besu", -32000, "Replacement transaction underpriced", Refusal.NONCE_USED),
    ("besu", -32006, "Nonce too high", Refusal.NONCE_AHEAD),
    ("besu", -32000, "Transaction nonce is too distant from current sender nonce", Refusal.NONCE_AHEAD),
    ("besu", -32004, "Upfront cost exceeds account balance", Refusal.REFUSED),
    ("besu", -32005, "Transaction gas limit exceeds block gas limit", Refusal.REFUSED),
    ("besu", -32003, "Intrinsic gas exceeds gas limit", Refusal.REFUSED),
    ("besu", -32007, "Sender account not authorized to send transactions", Refusal.REFUSED),
    ("besu", -32009, "Gas price below configured minimum gas price", Refusal.REFUSED),
    ("besu", -32000, "Wrong chainId", Refusal.REFUSED),
    ("besu", -32002, "Invalid signature", Refusal.REFUSED),
    ("besu", -32000, "An invalid transaction with a lower nonce exists", Refusal.REFUSED),
    # go-ethereum (GoQuorum's pool)
    ("geth", -32000, "already known", Refusal.KNOWN),
    ("geth", -32000, "nonce too low: next nonce 7, tx nonce 3", Refusal.NONCE_USED),
    ("geth", -32000, "nonce too high", Refusal.NONCE_AHEAD),
    ("geth", -32000, "transaction underpriced", Refusal.REFUSED),
    ("geth", -32000, "txpool is full", Refusal.REFUSED),
]


@pytest.mark.parametrize(("node", "code", "message", "meaning"), REFUSALS, ids=[f"{r[0]}:{r[2]}" for r in REFUSALS])
def test_every_node_refusal_has_one_meaning(node: str, code: int, message: str, meaning: Refusal) -> None:
    assert classify_refusal(message) is meaning
    assert classify_refusal(RpcError("eth_sendRawTransaction", code, message).rpc_message) is meaning


def test_no_other_module_classifies_refusals_by_hand() -> None:
    """The message fragments live in telcochain.signing only (string literals; docstrings and
    comments may name them): a second list is how two classifiers drifted apart."""
    fragments = {fragment for _, listed in _REFUSALS for fragment in listed}
    elsewhere = []
    for path in sorted(SDK.rglob("*.py")):
        if path.name == "signing.py":
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        elsewhere += [
            f"{path.relative_to(SDK)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and node.value.strip().lower() in fragments
        ]
    assert elsewhere == []


def test_anvils_own_refusals_are_classified_as_measured(local_node, dev_accounts) -> None:  # type: ignore[no-untyped-def]
    rpc = Rpc(local_node.rpc_url)
    sender = TxSender(rpc, dev_accounts[5], probe_chain(rpc))
    sink = Account.create().address
    nonce = sender.allocate_nonce()

    def refusal(**fields: int) -> Refusal | None:
        at = nonce + fields.pop("ahead", 0)
        raw, _ = sender.sign(sender.build(sink, "0x", gas=fields.pop("gas", 21_000), nonce=at, **fields))
        try:
            rpc.call("eth_sendRawTransaction", [raw])
        except RpcError as exc:
            return classify_refusal(exc.rpc_message)
        return None

    rpc.call("evm_setAutomine", [False])
    try:
        assert refusal(value=1) is None
        assert refusal(value=1) is Refusal.KNOWN  # the same bytes again
        assert refusal(value=2) is Refusal.NONCE_USED  # another transaction at a pooled nonce
        rpc.call("evm_mine", [])
        assert refusal(value=3) is Refusal.NONCE_USED  # the nonce is mined
        assert refusal(gas=20_000, ahead=1) is Refusal.REFUSED  # below the intrinsic gas
    finally:
        rpc.call("evm_setAutomine", [True])


@pytest.mark.parametrize(
    ("chain", "fields"),
    [
        (ChainInfo(31337, FeeMode.LEGACY, 0, 0), {"gasPrice": 0}),
        (ChainInfo(1337, FeeMode.LEGACY, 7, 0), {"gasPrice": 7}),
        (ChainInfo(1, FeeMode.EIP1559, 0, 0), {"maxPriorityFeePerGas": 0, "maxFeePerGas": 0}),
        (ChainInfo(1, FeeMode.EIP1559, 5, 0), {"maxPriorityFeePerGas": 10**9, "maxFeePerGas": 10 + 10**9}),
    ],
)
def test_one_fee_rule_for_the_sender_and_the_pipeline(chain: ChainInfo, fields: dict[str, int]) -> None:
    account = Account.create()
    sender = TxSender(Rpc("http://127.0.0.1:1"), account, chain)  # nothing is sent
    tx = sender.build("0x" + "11" * 20, "0xabcd", gas=50_000, nonce=3, value=9)
    assert fee_fields(chain) == fields == FastSigner.for_account(account, chain).fees
    assert {k: tx[k] for k in fields} == fields
    # The sender signs with the pipeline's signer: the very bytes eth-account makes.
    signed = account.sign_transaction(tx)
    assert sender.sign(tx) == ("0x" + signed.raw_transaction.hex(), "0x" + signed.hash.hex())


def test_the_signer_refuses_fields_it_would_not_sign_as_given() -> None:
    chain = ChainInfo(31337, FeeMode.LEGACY, 0, 0)
    signer = FastSigner.for_account(Account.create(), chain)
    tx = {"chainId": 31337, "nonce": 0, "gas": 21_000, "to": "0x" + "22" * 20, "value": 0, "data": "0x"}
    with pytest.raises(ConfigurationError):
        signer.sign_fields({**tx, "gasPrice": 5})
    with pytest.raises(ConfigurationError):
        signer.sign_fields({**tx, "gasPrice": 0, "chainId": 1})


def test_nonces_are_handed_out_in_order_and_reseeded_on_demand() -> None:
    nonces = Nonces()
    with pytest.raises(ConfigurationError):
        nonces.allocate()
    nonces.seed(5)
    assert [nonces.allocate() for _ in range(3)] == [5, 6, 7]
    nonces.seed(6, never_lower=True)  # a pipeline's resync never hands out a nonce twice
    assert nonces.allocate() == 8
    nonces.reserve_through(20)
    assert nonces.allocate() == 21
    nonces.forget()  # TxSender's resync: the chain's count, even if lower
    assert not nonces.seeded
    nonces.seed(4)
    assert nonces.allocate() == 4
