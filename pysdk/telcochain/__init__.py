"""telcochain: a Python SDK for a telecom consortium ledger.

Orders, network assets (digital twins) and the payments that follow their installation,
changes and disconnection, shared by operators, vendors, suppliers and enterprise
customers on a permissioned EVM chain. Start with :meth:`Client.connect`.
"""

from telcochain.client import Client
from telcochain.constitution import (
    ActionCall,
    ActionPolicy,
    ActionResult,
    CallOutcome,
    DenyReason,
    Member,
    MemberStatus,
    Permission,
    Proposal,
    ProposalStatus,
    Scope,
    VoteResult,
    Voters,
)
from telcochain.deployment import Deployment
from telcochain.errors import (
    AccountNotFound,
    ActionNotFound,
    CheckpointError,
    ConfigurationError,
    ContractRevert,
    DeploymentMismatch,
    DeploymentNotFound,
    KeystoreError,
    MemberNotFound,
    NodeError,
    NodeUnreachable,
    PermissionDenied,
    PipelineStopped,
    ProposalNotFound,
    RpcError,
    TelcochainError,
    TransactionError,
    TransactionTimeout,
    TransactionUnknown,
)
from telcochain.tx import ChainInfo, FeeMode, Receipt

__version__ = "0.1.0"

__all__ = [
    "AccountNotFound",
    "ActionCall",
    "ActionNotFound",
    "ActionPolicy",
    "ActionResult",
    "CallOutcome",
    "ChainInfo",
    "CheckpointError",
    "Client",
    "ConfigurationError",
    "ContractRevert",
    "DenyReason",
    "Deployment",
    "DeploymentMismatch",
    "DeploymentNotFound",
    "FeeMode",
    "KeystoreError",
    "Member",
    "MemberNotFound",
    "MemberStatus",
    "NodeError",
    "NodeUnreachable",
    "Permission",
    "PermissionDenied",
    "PipelineStopped",
    "Proposal",
    "ProposalNotFound",
    "ProposalStatus",
    "Receipt",
    "RpcError",
    "Scope",
    "TelcochainError",
    "TransactionError",
    "TransactionTimeout",
    "TransactionUnknown",
    "VoteResult",
    "Voters",
    "__version__",
]
