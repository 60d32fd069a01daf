"""Seven of ape's per-call costs that the contract tests do not need, patched for a session
(tests/contracts/conftest.py applies :func:`fast_ape` to the whole run):

- a custom error that the called contract does not declare (a module's error bubbling up
  through the Constitution) is explained by fetching and walking the transaction's whole
  trace — a quarter of the contract tests' time; these tests decode revert data against
  every custom error of the project themselves (``tests.support.dryrun.decode_error``), so ape
  looks at the called contract's ABI only and anything else reaches the tests as raw revert data;
- every call and transaction first asks the node for the contract's code (is it a
  contract?) — asked once per address here (code at an address never goes away on anvil
  except by a revert to before its deployment, after which the tests never call it);
- every call and transaction asks for the latest block to read the block gas limit
  (``gas_limit: max``) — anvil's limit is fixed for the session, read once;
- every call and transaction rebuilds the ecosystem's custom networks (the consortium
  network of ape-config.yaml) to find the default transaction type — the type is read once
  per network;
- every transaction waits for its receipt through web3's ``wait_for_transaction_receipt``,
  which asks once and then sleeps 0.1 s between asks: anvil mines a transaction a few
  milliseconds after it accepts it, so most transactions slept a whole 0.1 s (the agreement
  package ran alone in 95 s, 43 s without) — here it asks again after 2 ms, doubling up to 0.1 s;
- every transaction reads ape-foundry's ``gas_price``, which builds the provider's settings
  model again (3 ms) — read once per provider (ape-config.yaml's, fixed for the session);
- every JSON-RPC request asks ``requests`` for the environment's proxies for the node's URL,
  which walks the whole environment twice (a tenth of the contract tests' time) — asked once
  per URL and proxy settings here (the tests' nodes are all local).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

#: What ``requests`` reads from the environment to choose a proxy (either case).
PROXY_VARIABLES = tuple(
    name for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy") for name in (base, base.upper())
)


def _per_network(ecosystem: Any) -> tuple[int, str]:
    provider = ecosystem.network_manager.active_provider
    return id(ecosystem), provider.network.name if provider else ""


def _read_once(original: property, key: Callable[[Any], Hashable] = id) -> property:
    """``original`` read once per ``key(self)`` (a value fixed for the session), then cached."""
    values: dict[Hashable, Any] = {}

    def read(self: Any) -> Any:
        k = key(self)
        if k not in values:
            values[k] = original.fget(self)  # type: ignore[misc]
        return values[k]

    return property(read)


@contextmanager
def fast_ape() -> Iterator[None]:
    """The patches above, undone on exit."""
    import requests.sessions
    from ape.api.address import BaseAddress
    from ape_ethereum.ecosystem import Ethereum
    from ape_foundry.provider import FoundryProvider
    from web3.eth import Eth
    from web3.exceptions import TimeExhausted, TransactionIndexingInProgress, TransactionNotFound

    original_decode = Ethereum.decode_custom_error
    original_is_contract = BaseAddress.is_contract
    original_max_gas = FoundryProvider.max_gas
    original_tx_type = Ethereum.default_transaction_type
    original_gas_price = FoundryProvider.gas_price
    original_environ_proxies = requests.sessions.get_environ_proxies
    environ_proxies: dict[tuple[Any, ...], dict[str, str]] = {}
    contracts: set[str] = set()

    def called_contract_only(self: Any, data: Any, address: Any, **kwargs: Any) -> Any:
        kwargs.pop("txn", None)  # without the transaction, ape never looks for its trace
        return original_decode(self, data, address, **kwargs)

    def is_contract(self: Any) -> bool:
        if self.address in contracts:
            return True
        found = bool(original_is_contract.fget(self))  # type: ignore[attr-defined]
        if found:
            contracts.add(self.address)
        return found

    def wait_for_receipt(self: Any, transaction_hash: Any, timeout: float = 120, poll_latency: float = 0.1) -> Any:
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            try:
                return self.get_transaction_receipt(transaction_hash)
            except (TransactionNotFound, TransactionIndexingInProgress):
                if time.monotonic() > deadline:
                    raise TimeExhausted(
                        f"Transaction {transaction_hash!r} is not in the chain after {timeout} seconds"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, poll_latency)

    def proxies_once(url: str, no_proxy: Any = None) -> dict[str, str]:
        settings = tuple(os.environ.get(name) for name in PROXY_VARIABLES)
        key = (urlsplit(url)[:2], no_proxy, settings)
        if key not in environ_proxies:
            environ_proxies[key] = original_environ_proxies(url, no_proxy=no_proxy)
        return dict(environ_proxies[key])

    patch = pytest.MonkeyPatch()
    patch.setattr(FoundryProvider, "gas_price", _read_once(original_gas_price))
    patch.setattr(requests.sessions, "get_environ_proxies", proxies_once)
    patch.setattr(Eth, "wait_for_transaction_receipt", wait_for_receipt)
    patch.setattr(Ethereum, "default_transaction_type", _read_once(original_tx_type, key=_per_network))
    patch.setattr(Ethereum, "decode_custom_error", called_contract_only)
    patch.setattr(BaseAddress, "is_contract", property(is_contract))
    patch.setattr(FoundryProvider, "max_gas", _read_once(original_max_gas))
    try:
        yield
    finally:
        patch.undo()
