"""telcochain: a Python SDK for a telecom consortium ledger.

Orders, network assets (digital twins) and the payments that follow their installation,
changes and disconnection, shared by operators, vendors, suppliers and enterprise
customers on a permissioned EVM chain. Start with :meth:`Client.connect`.
"""

from telcochain.client import Client
from telcochain.constitution import Member, MemberStatus
from telcochain.deployment import Deployment
from telcochain.errors import (
    AccountNotFound,
    ConfigurationError,
    ContractRevert,
    DeploymentMismatch,
    DeploymentNotFound,
    KeystoreError,
    NodeError,
    NodeUnreachable,
    PermissionDenied,
    RpcError,
    TelcochainError,
    TransactionError,
    TransactionTimeout,
)
from telcochain.tx import ChainInfo, FeeMode, Receipt

__version__ = "0.1.0"

__all__ = [
    "AccountNotFound",
    "ChainInfo",
    "Client",
    "ConfigurationError",
    "ContractRevert",
    "Deployment",
    "DeploymentMismatch",
    "DeploymentNotFound",
    "FeeMode",
    "KeystoreError",
    "Member",
    "MemberStatus",
    "NodeError",
    "NodeUnreachable",
    "PermissionDenied",
    "Receipt",
    "RpcError",
    "TelcochainError",
    "TransactionError",
    "TransactionTimeout",
    "__version__",
]
