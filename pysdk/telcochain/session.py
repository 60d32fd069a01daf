"""What every domain API works through: :class:`Session`, one node, one deployment, one account.

The domain APIs (:mod:`telcochain.constitution`, :mod:`~telcochain.assets`, ...) take a session,
not the :class:`~telcochain.client.Client` that assembles them, so the SDK's layers stay acyclic:
``client`` imports the domain APIs, they import this module. A ``Client`` *is* a session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from eth_account.signers.local import LocalAccount

from telcochain.contract import Contract
from telcochain.deployment import Deployment
from telcochain.rpc import Rpc
from telcochain.trustkeys import KeyRing
from telcochain.tx import ChainInfo, TxSender, hexint

T = TypeVar("T")


class Session:
    """A connection to a telcochain deployment, optionally acting as one member account.

    :param rpc: the node.
    :param chain: what was learnt about the chain when connecting (:func:`~telcochain.tx.probe_chain`).
    :param deployment: the contracts' addresses.
    :param account: the member account that signs (None: read-only).
    :param keyring: this member's trust keys, to read encrypted details.
    """

    def __init__(
        self,
        rpc: Rpc,
        chain: ChainInfo,
        deployment: Deployment,
        account: LocalAccount | None = None,
        keyring: KeyRing | None = None,
    ) -> None:
        self.rpc = rpc
        self.keyring = keyring
        self.chain = chain
        self.deployment = deployment
        self.account = account
        self.sender = TxSender(rpc, account, chain) if account is not None else None
        self._contracts: dict[str, Contract] = {}
        self._apis: dict[Callable[..., Any], Any] = {}

    @property
    def address(self) -> str | None:
        """The account this session acts as (None when read-only)."""
        return None if self.account is None else str(self.account.address)

    def contract(self, name: str) -> Contract:
        """A binding to the deployed contract ``name`` (made once per session)."""
        if name not in self._contracts:
            self._contracts[name] = Contract(name, self.deployment.address(name), self.rpc, self.sender)
        return self._contracts[name]

    def block_number(self) -> int:
        return hexint(self.rpc.call("eth_blockNumber"))

    def api(self, make: Callable[[Session], T]) -> T:
        """The session's one instance of a domain API, made by ``make(session)`` on first use
        (``session.api(AssetsAPI)``): domain APIs reach each other this way, without importing
        the client."""
        if make not in self._apis:
            self._apis[make] = make(self)
        return cast(T, self._apis[make])
