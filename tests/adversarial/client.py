"""A raw client for the adversarial tests: eth-account signing, plain JSON-RPC over requests,
eth_abi encoding — no telcochain SDK, no web3 contract layer. It reads the ABIs the SDK ships
(``pysdk/telcochain/abi/*.json``) and the deployment manifest as plain JSON, so what it proves
does not depend on the SDK's own checks.

The one assertion tool: :meth:`Chain.send` returns a :class:`Sent` whose ``written`` is the net
state change of the transaction read from anvil's ``debug_traceTransaction`` with the
``prestateTracer`` in diff mode — every contract storage slot whose value differs before and
after, plus balance/nonce/code changes of any account.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, cast

import requests
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from tests.support.paths import ROOT

ABI_DIR = ROOT / "pysdk" / "telcochain" / "abi"
GAS = 15_000_000


def action_id(name: str) -> bytes:
    return keccak(text=name)


def ref(text: str) -> bytes:
    """A 32-byte correlation id from a short label."""
    return keccak(text=text)


def abi_type(param: dict[str, Any]) -> str:
    """The canonical ABI type of one ABI input/output (tuples expanded)."""
    t = param["type"]
    if t.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){t[len('tuple') :]}"
    return t


class RpcError(Exception):
    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error}")
        self.error = error


class Chain:
    """JSON-RPC to one node."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self._id = 0

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        self._id += 1
        body = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params or []}
        reply = self.session.post(self.url, json=body, timeout=60).json()
        if "error" in reply:
            raise RpcError(method, reply["error"])
        return reply["result"]

    @cached_property
    def chain_id(self) -> int:
        return int(self.rpc("eth_chainId"), 16)

    def call(self, to: str, data: bytes, sender: str | None = None) -> bytes:
        tx: dict[str, Any] = {"to": to, "data": "0x" + data.hex()}
        if sender:
            tx["from"] = sender
        return bytes.fromhex(self.rpc("eth_call", [tx, "latest"])[2:])

    def nonce(self, address: str) -> int:
        return int(self.rpc("eth_getTransactionCount", [address, "pending"]), 16)

    def send(self, account: LocalAccount, to: str | None, data: bytes, gas: int = GAS) -> Sent:
        """Sign and send a legacy transaction at gas price 0; returns it once mined, with its
        receipt and its state diff."""
        tx_hash = self.submit(account, to, data, gas=gas)
        return Sent(self, account.address, tx_hash, self.receipt(tx_hash))

    def submit(
        self, account: LocalAccount, to: str | None, data: bytes, gas: int = GAS, nonce: int | None = None
    ) -> str:
        """Sign and send a legacy transaction at gas price 0 (at the account's pending nonce
        unless told); its hash, without waiting for it."""
        tx: dict[str, Any] = {
            "nonce": self.nonce(account.address) if nonce is None else nonce,
            "gasPrice": 0,
            "gas": gas,
            "data": data,
            "value": 0,
            "chainId": self.chain_id,
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        raw = account.sign_transaction(tx).raw_transaction
        return str(self.rpc("eth_sendRawTransaction", ["0x" + bytes(raw).hex()]))

    def receipt(self, tx_hash: str, timeout: float = 30.0) -> dict[str, Any]:
        """The receipt of a sent transaction, once mined (anvil automining mines it a moment after
        accepting it); one the node does not mine in ``timeout`` fails with what the node held."""
        receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        if receipt is None and not self.rpc("anvil_getAutomine"):  # not automining: ask for a block
            self.rpc("evm_mine")
            receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        delay, deadline = 0.002, time.monotonic() + timeout
        while receipt is None:
            assert time.monotonic() < deadline, f"{tx_hash} was never mined: {self.pool_report(tx_hash)}"
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
            receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        return cast(dict[str, Any], receipt)

    def pool_report(self, tx_hash: str) -> str:
        """What the node holds of an unmined transaction, in one line: in its pool or not, its
        nonce against its sender's, the pool's size and the mining mode."""
        tx = self.rpc("eth_getTransactionByHash", [tx_hash])
        pool = {k: int(v, 16) for k, v in self.rpc("txpool_status").items()}
        mode = f"automine {self.rpc('anvil_getAutomine')}, block {int(self.rpc('eth_blockNumber'), 16)}"
        if tx is None:
            return f"unknown to the node (dropped); pool {pool}; {mode}"
        nonce = int(tx["nonce"], 16)
        latest = int(self.rpc("eth_getTransactionCount", [tx["from"], "latest"]), 16)
        gap = " (a gap: was the chain reverted without tests.support.chain.revert?)" if nonce > latest else ""
        return f"in the pool, nonce {nonce}, its sender's {latest}{gap}; pool {pool}; {mode}"

    def increase_time(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", [seconds])
        self.rpc("evm_mine")

    def timestamp(self) -> int:
        return int(self.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def code(self, address: str) -> bytes:
        return bytes.fromhex(self.rpc("eth_getCode", [address, "latest"])[2:])


@dataclass
class Log:
    address: str
    contract: str  # the contract name, or "?"
    event: str  # the event name, or the topic
    args: dict[str, Any]


@dataclass
class Sent:
    """A mined transaction: status, logs, and what it wrote."""

    chain: Chain
    sender: str
    tx_hash: str
    receipt: dict[str, Any]
    logs: list[Log] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return int(self.receipt["status"], 16) == 1

    @cached_property
    def trace(self) -> dict[str, Any]:
        return self.chain.rpc(
            "debug_traceTransaction",
            [self.tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
        )

    @cached_property
    def written(self) -> dict[str, dict[str, Any]]:
        """Net changes by account (lower-case address): ``{"storage": {slot: (pre, post)},
        "balance": (pre, post), "nonce": ..., "code": ...}`` for what differs."""
        pre, post = self.trace.get("pre", {}), self.trace.get("post", {})
        out: dict[str, dict[str, Any]] = {}
        for address in set(pre) | set(post):
            a, b = pre.get(address, {}), post.get(address, {})
            changes: dict[str, Any] = {}
            sa, sb = a.get("storage", {}), b.get("storage", {})
            zero = "0x" + "00" * 32
            slots = {k: (sa.get(k, zero), sb.get(k, zero)) for k in set(sa) | set(sb)}
            # diff mode lists in `post` only what changed; a slot missing from `post` was cleared
            slots = {k: v for k, v in slots.items() if int(v[0], 16) != int(v[1], 16) and (k in sb or k in sa)}
            slots = {k: v for k, v in slots.items() if k in sb or int(v[0], 16) != 0}
            if slots:
                changes["storage"] = slots
            for key in ("balance", "nonce", "code"):
                if key in b and b[key] != a.get(key):
                    changes[key] = (a.get(key), b[key])
            if changes:
                out[address.lower()] = changes
        return out

    def revert_reason(self) -> str:
        """Diagnostics only: the transaction replayed as a call on the block before it, and the
        custom error it reverts with (the selector if no shipped ABI knows it)."""
        tx = self.chain.rpc("eth_getTransactionByHash", [self.tx_hash])
        block = hex(int(self.receipt["blockNumber"], 16) - 1)
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
        try:
            self.chain.rpc("eth_call", [call, block])
        except RpcError as e:
            data = e.error.get("data") or ""
            data = data if isinstance(data, str) else str(data)
            return _ERRORS.get(data[:10], data[:10] or str(e.error.get("message")))
        return "no revert on replay"

    def storage_writes(self) -> dict[str, dict[str, Any]]:
        """Storage changes only (any contract), by address."""
        return {addr: c["storage"] for addr, c in self.written.items() if "storage" in c}

    def other_changes(self) -> dict[str, dict[str, Any]]:
        """Every change but the sender's own nonce."""
        out = {}
        for addr, c in self.written.items():
            c = dict(c)
            if addr == self.sender.lower():
                c.pop("nonce", None)
            if c:
                out[addr] = c
        return out


class Abis:
    """The shipped ABIs: function encoding, event decoding, custom errors."""

    def __init__(self, folder: Path = ABI_DIR) -> None:
        self.by_name: dict[str, list[dict[str, Any]]] = {
            p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))
        }
        self.events: dict[bytes, tuple[str, dict[str, Any]]] = {}
        for contract, abi in self.by_name.items():
            for item in abi:
                if item["type"] == "event":
                    sig = f"{item['name']}({','.join(abi_type(i) for i in item['inputs'])})"
                    self.events.setdefault(keccak(text=sig), (contract, item))

    def function(self, contract: str, name: str) -> dict[str, Any]:
        matches = [i for i in self.by_name[contract] if i["type"] == "function" and i["name"] == name]
        if len(matches) != 1:
            raise KeyError(f"{contract}.{name}: {len(matches)} matches")
        return matches[0]

    def encode(self, contract: str, name: str, *args: Any) -> bytes:
        fn = self.function(contract, name)
        types = [abi_type(i) for i in fn["inputs"]]
        selector = function_signature_to_4byte_selector(f"{name}({','.join(types)})")
        return selector + abi_encode(types, list(args))

    def decode_output(self, contract: str, name: str, data: bytes) -> Any:
        fn = self.function(contract, name)
        values = abi_decode([abi_type(o) for o in fn["outputs"]], data)
        return values[0] if len(values) == 1 else values

    def decode_log(self, raw: dict[str, Any], names: dict[str, str]) -> Log:
        address = raw["address"].lower()
        topics = [bytes.fromhex(t[2:]) for t in raw["topics"]]
        data = bytes.fromhex(raw["data"][2:])
        if not topics or topics[0] not in self.events:
            return Log(address, names.get(address, "?"), topics[0].hex() if topics else "?", {})
        contract, event = self.events[topics[0]]
        indexed = [i for i in event["inputs"] if i.get("indexed")]
        plain = [i for i in event["inputs"] if not i.get("indexed")]
        args: dict[str, Any] = {}
        for param, topic in zip(indexed, topics[1:], strict=False):
            t = abi_type(param)
            args[param["name"]] = abi_decode([t], topic)[0] if t in _STATIC_TOPIC else topic
        for param, value in zip(plain, abi_decode([abi_type(i) for i in plain], data), strict=True):
            args[param["name"]] = value
        return Log(address, names.get(address, contract), event["name"], args)


def _error_names() -> dict[str, str]:
    out: dict[str, str] = {}
    for p in sorted(ABI_DIR.glob("*.json")):
        for item in json.loads(p.read_text()):
            if item["type"] == "error":
                sig = f"{item['name']}({','.join(abi_type(i) for i in item['inputs'])})"
                out["0x" + keccak(text=sig)[:4].hex()] = item["name"]
    return out


_ERRORS = _error_names()

_STATIC_TOPIC = {"address", "bool", "bytes32", "uint8", "uint256", "uint64", "uint32", "int256"}


@dataclass
class Deployment:
    """The manifest read as JSON: contract addresses by name."""

    addresses: dict[str, str]
    roles: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Deployment:
        data = json.loads(Path(path).read_text())
        contracts = {name: c["address"] for name, c in data["contracts"].items()}
        roles = data.get("consortium", {}).get("roles", {})
        return cls(contracts, roles)


class Contract:
    def __init__(self, client: Client, name: str, address: str) -> None:
        self.client, self.name, self.address = client, name, to_checksum_address(address)

    def data(self, fn: str, *args: Any) -> bytes:
        return self.client.abis.encode(self.name, fn, *args)

    def view(self, fn: str, *args: Any) -> Any:
        out = self.client.chain.call(self.address, self.data(fn, *args))
        return self.client.abis.decode_output(self.name, fn, out)

    def send(self, account: LocalAccount, fn: str, *args: Any, gas: int = GAS) -> Sent:
        return self.client.send(account, self.address, self.data(fn, *args), gas=gas)


class Client:
    """Chain + ABIs + deployment: what the attacks need."""

    def __init__(self, url: str, manifest: Path) -> None:
        self.chain = Chain(url)
        self.abis = Abis()
        self.deployment = Deployment.load(manifest)
        self.contracts = {n: Contract(self, n, a) for n, a in self.deployment.addresses.items()}
        self.names = {a.lower(): n for n, a in self.deployment.addresses.items()}

    def __getitem__(self, name: str) -> Contract:
        return self.contracts[name]

    def send(self, account: LocalAccount, to: str | None, data: bytes, gas: int = GAS) -> Sent:
        sent = self.chain.send(account, to, data, gas=gas)
        sent.logs = [self.abis.decode_log(raw, self.names) for raw in sent.receipt["logs"]]
        return sent

    # -- the Constitution's entry points -------------------------------------------------

    def execute(self, account: LocalAccount, action: str, params: bytes, label: str = "adv") -> Sent:
        return self["Constitution"].send(account, "executeAction", action_id(action), params, ref(label))

    def batch(self, account: LocalAccount, calls: list[tuple[str, bytes, str]], gas: int = GAS) -> Sent:
        encoded = [(action_id(a), p, ref(label)) for a, p, label in calls]
        return self["Constitution"].send(account, "executeBatch", encoded, gas=gas)

    def vote(self, account: LocalAccount, proposal_id: int, approve: bool = True) -> Sent:
        return self["Constitution"].send(account, "voteFor", proposal_id, approve, ref(f"vote-{proposal_id}"))


def enc(types: list[str], *values: Any) -> bytes:
    """ABI-encode an action's params (the module decodes them with the same types)."""
    return abi_encode(types, list(values))
