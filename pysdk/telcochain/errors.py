"""One exception hierarchy for the whole SDK, rooted at :class:`TelcochainError`.

Every error the SDK raises is a ``TelcochainError``; each subclass also inherits the
builtin it resembles (``LookupError``, ``ConnectionError``, ``TimeoutError``...), so
callers can catch it either way. Messages are built from the fields, which are kept as
attributes.

Custom Solidity errors (``error ConstitutionNotMember(address account)``) are decoded
from revert data into :class:`ContractRevert` subclasses named after the Solidity error,
created on first use and importable from this module::

    from telcochain.errors import ConstitutionInvalidTrustKey
    try:
        client.constitution.rotate_trust_key(b"\\0" * 32)
    except ConstitutionInvalidTrustKey:
        ...
"""

from __future__ import annotations

from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address

from telcochain.abi import error_names, error_registry


class TelcochainError(Exception):
    """Base class of every error raised by telcochain."""


# --- configuration and input -------------------------------------------------------


class ConfigurationError(TelcochainError, ValueError):
    """Bad input or configuration: a malformed address, an unreadable config file..."""


class DeploymentNotFound(ConfigurationError, LookupError):
    """No deployment manifest matches the chain the client is connected to."""

    def __init__(self, chain_id: int | None, searched: str, hint: str = "") -> None:
        self.chain_id = chain_id
        self.searched = searched
        where = f"for chain {chain_id} " if chain_id is not None else ""
        msg = f"no telcochain deployment {where}in {searched}"
        super().__init__(msg + (f"; {hint}" if hint else ""))


class DeploymentMismatch(TelcochainError):
    """The manifest does not fit the chain or this SDK (chain reset, other contract sources)."""


class KeystoreError(TelcochainError):
    """An account keystore is missing, malformed, or its password is wrong."""


class AccountNotFound(KeystoreError, LookupError):
    """No keystore with this name."""

    def __init__(self, name: str, directory: str) -> None:
        self.name = name
        self.directory = directory
        super().__init__(f"no account named {name!r} in {directory} (see `telcochain account list`)")


class ActionNotFound(TelcochainError, LookupError):
    """The constitution has no action with this name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no action named {name!r} in the constitution (see `telcochain action list`)")


class ProposalNotFound(TelcochainError, LookupError):
    """No proposal with this id."""

    def __init__(self, proposal_id: int) -> None:
        self.proposal_id = proposal_id
        super().__init__(f"no proposal #{proposal_id} (see `telcochain proposal list`)")


class MemberNotFound(TelcochainError, LookupError):
    """No member with this address or name."""

    def __init__(self, who: str) -> None:
        self.who = who
        super().__init__(f"no member {who!r} (see `telcochain member list`)")


# --- the node --------------------------------------------------------------------------


class NodeUnreachable(TelcochainError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach the node at {url}: {reason}")


class RpcError(TelcochainError):
    """The node answered a JSON-RPC request with an error."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        self.method = method
        self.code = code
        self.rpc_message = message
        self.data = data
        super().__init__(f"{method} failed: {message} (code {code})")


class NodeError(TelcochainError):
    """The embedded local node (anvil) could not be started, found or stopped."""


class CheckpointError(TelcochainError, OSError):
    """A notification checkpoint cannot be read (missing rights, damaged content) or saved
    (disk full, read-only); the previous checkpoint is untouched."""


# --- the pipeline and senders -------------------------------------------------------------


# --- transactions ------------------------------------------------------------------------


class TransactionError(TelcochainError):
    """A transaction could not be sent or did not succeed."""


class TransactionUnknown(TransactionError, ConnectionError):
    """A transaction was signed and sent, but no answer says whether the node has it: it may be
    mined yet. Resolve it by its hash (``TxSender.resolve``/``resume``), never by signing the
    operation again (that could apply it twice)."""

    def __init__(self, tx_hash: str, nonce: int, reason: str) -> None:
        self.tx_hash = tx_hash
        self.nonce = nonce
        self.reason = reason
        super().__init__(f"transaction {tx_hash} (nonce {nonce}) fate unknown: {reason}; resolve it by its hash")


class PipelineStopped(TransactionError):
    """A pipeline's worker thread died: it accepts no more work. ``cause`` says why; the
    outcomes not yet final can be handed to a new pipeline's ``resume()``."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        super().__init__(f"the pipeline stopped: {cause}")


class TransactionTimeout(TransactionError, TimeoutError):
    """No receipt arrived in time."""

    def __init__(self, tx_hash: str, seconds: float) -> None:
        self.tx_hash = tx_hash
        self.seconds = seconds
        super().__init__(f"transaction {tx_hash} not mined after {seconds:g} s")


class ContractRevert(TransactionError):
    """A contract call reverted. ``error_name`` and ``args`` are decoded when the ABI is known.

    Subclasses named after each Solidity custom error are created on demand (see
    :func:`contract_error_class`), so ``except ConstitutionNotMember`` works.
    """

    error_name: str = ""

    def __init__(
        self,
        error_name: str,
        args: dict[str, Any] | None = None,
        data: str = "0x",
        tx_hash: str | None = None,
    ) -> None:
        self.error_name = error_name
        self.error_args = dict(args or {})
        self.data = data
        self.tx_hash = tx_hash
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.error_args.items())
        where = f" (tx {tx_hash})" if tx_hash else ""
        super().__init__(f"reverted: {error_name}({shown}){where}")


class PermissionDenied(TelcochainError, PermissionError):
    """The Constitution refused an action (it returned false and emitted ``ActionDenied``)."""

    def __init__(self, action: str, caller: str, reason: str, tx_hash: str | None = None) -> None:
        self.action = action
        self.caller = caller
        self.reason = reason
        self.tx_hash = tx_hash
        super().__init__(f"{action} denied for {caller}: {reason}")


class AssetNotFound(ContractRevert, LookupError):
    """No digital twin with this id: raised by reads, and decoded from the contract's
    ``AssetNotFound(bytes32 assetId)`` revert — one class for both."""

    error_name = "AssetNotFound"

    def __init__(
        self,
        error_name: str = "AssetNotFound",
        args: dict[str, Any] | None = None,
        data: str = "0x",
        tx_hash: str | None = None,
    ) -> None:
        super().__init__(error_name, args, data, tx_hash)
        self.args = (f"no asset {_show(self.error_args.get('assetId', b''))} (never registered)",)

    def __str__(self) -> str:
        return str(self.args[0])


def show_bytes32(value: bytes) -> str:
    """bytes32 as text when it is printable padded text, else 0x-hex."""
    stripped = value.rstrip(b"\0")
    if stripped and all(32 <= b < 127 for b in stripped):
        return stripped.decode()
    return "0x" + value.hex()


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        shown = show_bytes32(value) if len(value) == 32 else "0x" + value.hex()
        return shown if shown.startswith("0x") else repr(shown)  # an id written as text: 'ONT-0001'
    return str(value)


_ERROR_CLASSES: dict[str, type[ContractRevert]] = {"AssetNotFound": AssetNotFound}


def contract_error_class(name: str) -> type[ContractRevert]:
    """The :class:`ContractRevert` subclass for the Solidity error ``name`` (created once)."""
    cls = _ERROR_CLASSES.get(name)
    if cls is None:
        base: type[ContractRevert] = ContractRevert
        cls = type(name, (base,), {"__module__": __name__, "error_name": name})
        _ERROR_CLASSES[name] = cls
    return cls


def __getattr__(name: str) -> type[ContractRevert]:
    """``from telcochain.errors import <SolidityErrorName>`` for every error in the shipped ABIs."""
    if name.startswith("__"):  # the import machinery probes dunders: never an error name
        raise AttributeError(name)
    if name in error_names():
        return contract_error_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Selector of Solidity's built-in ``Error(string)`` (require with a message).
_ERROR_STRING = "0x08c379a0"
#: Selector of Solidity's built-in ``Panic(uint256)`` (assert, overflow, ...).
_PANIC = "0x4e487b71"


def decode_revert(data: str | bytes | None, tx_hash: str | None = None) -> ContractRevert:
    """Turn revert data into the matching :class:`ContractRevert` subclass."""
    if isinstance(data, bytes | bytearray):
        data = "0x" + bytes(data).hex()
    data = (data or "0x").lower()
    selector, body = data[:10], bytes.fromhex(data[10:]) if len(data) > 10 else b""
    if len(data) < 10:
        return ContractRevert("UnknownRevert", {}, data, tx_hash)
    try:
        if selector == _ERROR_STRING:
            (message,) = abi_decode(["string"], body)
            return contract_error_class("Error")("Error", {"message": message}, data, tx_hash)
        if selector == _PANIC:
            (code,) = abi_decode(["uint256"], body)
            return contract_error_class("Panic")("Panic", {"code": hex(code)}, data, tx_hash)
        known = error_registry().get(selector)
        if known is not None:
            name, names, types = known
            values = [
                to_checksum_address(v) if t == "address" else v
                for t, v in zip(types, abi_decode(types, body), strict=True)
            ]
            return contract_error_class(name)(name, dict(zip(names, values, strict=True)), data, tx_hash)
    except Exception:  # malformed revert data: fall through to the raw form
        pass
    return ContractRevert(f"UnknownError[{selector}]", {}, data, tx_hash)


# --- visibility constraints: encrypted details (telcochain.visibility, .details, .trustkeys) ---


class DetailsError(TelcochainError):
    """Encrypted details could not be disclosed, opened or verified; nothing was accepted."""


class DisclosureNotFound(DetailsError, LookupError):
    """No disclosure has this id (``keccak256(abi.encode(discloser, ref))``, ``ref`` being the one
    of its ``disclose`` action)."""

    def __init__(self, ref: bytes) -> None:
        self.ref = ref
        super().__init__(
            f"no disclosure {_show(ref)} in the DetailsVault (a disclosure id is keccak256(discloser, ref): "
            "to name one by its ref, give its discloser too)"
        )


class NotDisclosedToYou(DetailsError, PermissionError):
    """The disclosure exists but no key was wrapped for this member: it may not read it."""

    def __init__(self, ref: bytes, member: str) -> None:
        self.ref = ref
        self.member = member
        super().__init__(f"disclosure {_show(ref)} was not disclosed to {member} (ask its discloser for access)")


class WrongTrustKey(DetailsError):
    """A key was wrapped for this member, but none of the trust keys in its key ring opens it
    (the ring lacks the private key of the trust key it was wrapped to, or the wrapped key was
    tampered with)."""

    def __init__(self, ref: bytes, tried: int) -> None:
        self.ref = ref
        self.tried = tried
        super().__init__(
            f"none of the {tried} trust key(s) in the key ring opens the key wrapped for disclosure {_show(ref)}"
        )


class CiphertextInvalid(DetailsError, ValueError):
    """The encrypted payload is truncated, tampered with, in an unknown format, or not
    encrypted under this key: authentication failed."""


class CommitmentMismatch(DetailsError):
    """A decrypted payload does not match its on-chain commitment ``detailsHash``."""

    def __init__(self, expected: bytes, actual: bytes, ref: bytes | None = None) -> None:
        self.expected = expected
        self.actual = actual
        self.ref = ref
        where = f" of disclosure {_show(ref)}" if ref is not None else ""
        super().__init__(
            f"the payload{where} does not match its commitment: detailsHash 0x{expected.hex()}, "
            f"payload hashes to 0x{actual.hex()}"
        )


class TrustKeyFileError(KeystoreError):
    """A trust key file is missing, malformed, or its password is wrong."""
