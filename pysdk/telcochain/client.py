"""The entry point of the SDK: :class:`Client`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from eth_account.signers.local import LocalAccount

from telcochain.agreement import AgreementAPI, EscrowAPI
from telcochain.assets import AssetsAPI
from telcochain.batch import Batch
from telcochain.constitution import ConstitutionAPI, constitution_of
from telcochain.customers import CustomersAPI
from telcochain.deployment import Deployment, find_deployment
from telcochain.details import DetailsAPI, Disclosed, DisclosureRef, details_of
from telcochain.errors import DeploymentMismatch
from telcochain.notifications import CheckpointStore, NotificationStream
from telcochain.orders import OrdersAPI
from telcochain.rpc import Rpc
from telcochain.session import Session
from telcochain.trustkeys import KeyRing
from telcochain.tx import probe_chain
from telcochain.types import Ref
from telcochain.vendors import VendorsAPI

DEFAULT_RPC_URL = "http://127.0.0.1:8545"


class Client(Session):
    """A connection to a telcochain deployment, optionally acting as one member account: a
    :class:`~telcochain.session.Session` with the domain APIs as attributes.

    >>> client = Client.connect("http://127.0.0.1:8545", account)   # doctest: +SKIP
    >>> [m.name for m in client.constitution.members()]             # doctest: +SKIP
    """

    @classmethod
    def connect(
        cls,
        rpc_url: str | None = None,
        account: LocalAccount | None = None,
        *,
        deployment: Deployment | str | os.PathLike[str] | None = None,
        timeout: float = 30.0,
        keyring: KeyRing | None = None,
    ) -> Client:
        """Connect to a node, find the deployment for its chain and check it.

        ``rpc_url`` defaults to ``$TELCOCHAIN_RPC_URL`` or the local node. ``deployment`` is a
        manifest (object or file); by default the one in ``./deployments`` whose chain id
        matches the node's. Raises :class:`~telcochain.errors.NodeUnreachable`,
        :class:`~telcochain.errors.DeploymentNotFound` or
        :class:`~telcochain.errors.DeploymentMismatch` (chain reset, ABI drift).
        ``keyring`` holds this member's trust keys (:mod:`telcochain.trustkeys`), needed to
        read encrypted details (:attr:`details`).
        """
        rpc = Rpc(rpc_url or os.environ.get("TELCOCHAIN_RPC_URL") or DEFAULT_RPC_URL, timeout=timeout)
        chain = probe_chain(rpc)
        if deployment is None:
            manifest = find_deployment(chain.chain_id)
        elif isinstance(deployment, Deployment):
            manifest = deployment
        else:
            manifest = Deployment.load(deployment)
        if manifest.chain_id != chain.chain_id:
            raise DeploymentMismatch(
                f"the deployment is for chain {manifest.chain_id} but {rpc.url} is chain {chain.chain_id}"
            )
        manifest.check_abis()
        contracts = list(manifest.contracts.values())
        codes = rpc.batch([("eth_getCode", [c.address, "latest"]) for c in contracts])
        for contract, code in zip(contracts, codes, strict=True):
            if not code or code == "0x":
                raise DeploymentMismatch(
                    f"no contract code at {contract.address} ({contract.name}) on chain {chain.chain_id}: "
                    "the chain was reset since the deployment; redeploy"
                )
        return cls(rpc, chain, manifest, account, keyring)

    @property
    def constitution(self) -> ConstitutionAPI:
        """Members and governance."""
        return constitution_of(self)

    def notifications(
        self,
        checkpoint: str | os.PathLike[str] | CheckpointStore | None = None,
        *,
        confirmations: int = 0,
        from_block: int | None = None,
    ) -> NotificationStream:
        """The seed's getNotification: this member's durable, reorg-safe event stream.

        ``checkpoint`` is a file where progress is kept (a restarted listener resumes there), or
        a :class:`CheckpointStore` in your own database (exactly-once with ``consume()``);
        iterate the stream (at-least-once), or ``poll()`` and ``ack()`` yourself.
        """
        return NotificationStream(self, checkpoint, confirmations=confirmations, from_block=from_block)

    @property
    def assets(self) -> AssetsAPI:
        """Digital twins: lifecycle, serials, links, verifiable history."""
        return self.api(AssetsAPI)

    @property
    def orders(self) -> OrdersAPI:
        """Customer orders: projects, orders, service items, device lines, stock."""
        return self.api(OrdersAPI)

    @property
    def details(self) -> DetailsAPI:
        """Encrypted details readable only by chosen members (visibility constraints)."""
        return details_of(self)

    def disclose(
        self, subject: str | bytes, details: dict[str, Any], to: Iterable[str] = (), *, ref: Ref = None
    ) -> Disclosed:
        """Encrypt ``details`` about ``subject`` for this member and the members ``to``; returns
        ``(details_hash, id, ref)`` — put the hash in the action the details belong to, read them
        back with :meth:`read_details` (by ``id``, or the tuple itself).
        See :class:`~telcochain.details.DetailsAPI`."""
        return self.details.disclose(subject, details, to, ref=ref)

    def read_details(self, which: DisclosureRef, *, discloser: str | None = None) -> dict[str, Any]:
        """The details of disclosure ``which`` (its id, or a record carrying it; a ref with
        ``discloser``), decrypted with this member's key ring and checked against their on-chain
        commitment."""
        return self.details.read(which, discloser=discloser)

    @property
    def agreement(self) -> AgreementAPI:
        """The operator agreement: installation, MACD, disconnect, billing."""
        return self.api(AgreementAPI)

    @property
    def customers(self) -> CustomersAPI:
        """The operator's customers: registry, EIP-712 consents, bilateral price lists."""
        return self.api(CustomersAPI)

    @property
    def escrow(self) -> EscrowAPI:
        """Invoices in escrow: fund, release, refund, reclaim; receipts, token balances."""
        return self.api(EscrowAPI)

    @property
    def vendors(self) -> VendorsAPI:
        """Vendor settlement: terms, the three-way match, vendor invoices and credits."""
        return self.api(VendorsAPI)

    def batch(self, chunk: int = 100) -> Batch:
        """Many actions sent as Constitution.executeBatch transactions of ``chunk`` calls::

            with client.batch() as b:
                for asset in assets:
                    b.add("requestChange", asset_id(asset), ZERO32)
            [o.status for o in b.outcomes]   # executed / denied / reverted, per call

        Nothing is sent if the block raises; each call is checked on its own on chain.
        """
        return Batch(self, chunk=chunk)
