"""Custom-error checks for the module tests (assets/, orders/, agreement/, visibility/).

Inside :func:`reverts_with`, :func:`send` runs the call as an ``eth_call`` instead of a
transaction and raises :class:`Reverted` with the revert data: fast (ape explains a revert of
an error it does not know by walking the call's full trace, ~1 s a call) and it proves that
nothing changed. The data is decoded against every custom error of the project's contracts —
module errors bubble up through the Constitution unchanged.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

from ape.exceptions import ContractLogicError
from eth_abi import decode, encode
from eth_utils import keccak

from tests.support.encoding import action_id, ref

#: The contracts whose custom errors a revert may carry.
ERROR_SOURCES = (
    "Constitution",
    "MockModule",
    "AssetRegistry",
    "OrderBook",
    "EscrowPayment",
    "OperatorAgreement",
    "SettlementToken",
    "MaliciousToken",
    "DetailsVault",
    "VendorSettlement",
    "CustomerRegistry",
)


@lru_cache(maxsize=1)
def known_errors() -> dict[bytes, tuple[str, list[str], list[str]]]:
    """selector → (name, input types, input names) of every custom error of the project."""
    from ape import project

    known = {}
    for contract in ERROR_SOURCES:
        for err in getattr(project, contract).contract_type.errors:
            known[keccak(text=err.selector)[:4]] = (
                err.name,
                [i.canonical_type for i in err.inputs],
                [i.name for i in err.inputs],
            )
    return known


def error_data(name: str, *args) -> bytes:
    """The revert data of the custom error ``name(args)``."""
    for selector, (known_name, types, _) in known_errors().items():
        if known_name == name:
            return selector + encode(types, list(args))
    raise KeyError(name)


def decode_data(data: bytes) -> tuple[str, dict]:
    """(name, inputs) of the custom error encoded in revert ``data``."""
    found = known_errors().get(bytes(data[:4]))
    if found is None:
        return f"<unknown {data.hex()}>", {}
    name, types, names = found
    return name, dict(zip(names, decode(types, data[4:]), strict=True))


def decode_error(err: ContractLogicError) -> tuple[str, dict]:
    if type(err).__name__ not in ("ContractLogicError", "TransactionError"):
        return type(err).__name__, dict(err.inputs)
    return decode_data(bytes.fromhex(str(err.revert_message).removeprefix("0x")))


class Reverted(Exception):
    """A dry-run call reverted with ``data``."""

    def __init__(self, data: bytes):
        super().__init__(data.hex())
        self.data = data


_expecting_revert = False


def send(method, *args, sender, block: str = "latest"):
    """Sends ``method(*args)`` from ``sender``, as ape does; inside :func:`reverts_with`, runs it
    as an ``eth_call`` against ``block`` instead and raises :class:`Reverted` with the revert data
    (``"pending"`` when the next block's timestamp matters)."""
    if not _expecting_revert:
        return method(*args, sender=sender)
    from ape import chain
    from web3.exceptions import ContractLogicError as Web3LogicError

    data = method.encode_input(*args)
    data = data.hex() if isinstance(data, bytes) else str(data)
    call = {"from": sender.address, "to": method.contract.address, "data": "0x" + data.removeprefix("0x")}
    try:
        chain.provider.web3.eth.call(call, block)
    except Web3LogicError as err:
        raw = err.data if isinstance(err.data, str) else ""
        raise Reverted(bytes.fromhex(raw.removeprefix("0x"))) from None
    return None


def execute_action(
    constitution, action: str, params: bytes, *, sender, ref_: bytes | None = None, block: str = "latest"
):
    """``constitution.executeAction(keccak256(action), params, ref)`` from ``sender`` through
    :func:`send` (the ref defaults to one named after the action)."""
    ref_ = ref_ if ref_ is not None else ref(action)
    return send(constitution.executeAction, action_id(action), params, ref_, sender=sender, block=block)


@contextmanager
def reverts_with(error_name: str, **inputs):
    """The block must revert with the custom error ``error_name`` and these inputs."""
    global _expecting_revert
    _expecting_revert = True
    try:
        yield
    except Reverted as err:
        name, actual = decode_data(err.data)
    except ContractLogicError as err:  # a real transaction
        name, actual = decode_error(err)
    else:
        raise AssertionError(f"did not revert (expected {error_name})")
    finally:
        _expecting_revert = False
    assert name == error_name, f"reverted with {name}{actual}, expected {error_name}"
    for key, expected in inputs.items():
        got = actual[key]
        if isinstance(expected, str) and isinstance(got, str):
            assert got.lower() == expected.lower(), (key, got, expected)
        elif isinstance(expected, bytes):
            assert bytes(got) == expected, (key, got, expected)
        else:
            assert got == expected, (key, got, expected)


def named(receipt, name: str) -> list:
    """The receipt's events called ``name``."""
    return [log for log in receipt.events if log.event_name == name]
