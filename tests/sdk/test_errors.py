"""Revert data decoding and the exception hierarchy."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from telcochain import errors
from telcochain.abi import error_names
from telcochain.errors import decode_revert


def selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def test_every_custom_error_of_the_shipped_abis_is_importable_as_a_class():
    assert "ConstitutionNotMember" in error_names()
    from telcochain.errors import ConstitutionNotMember

    assert issubclass(ConstitutionNotMember, errors.ContractRevert)
    assert errors.contract_error_class("ConstitutionNotMember") is ConstitutionNotMember


def test_an_unknown_name_is_not_invented():
    with pytest.raises(AttributeError):
        errors.NoSuchErrorAnywhere  # noqa: B018


def test_a_custom_error_with_arguments_is_decoded():
    member = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    data = selector("ConstitutionMemberExists(address)") + encode(["address"], [member]).hex()
    error = decode_revert(data, tx_hash="0x01")
    assert type(error).__name__ == "ConstitutionMemberExists"
    assert error.error_args == {"account": member}
    assert error.tx_hash == "0x01"
    assert f"ConstitutionMemberExists(account={member})" in str(error)


def test_require_messages_and_panics_are_decoded():
    message = decode_revert(selector("Error(string)") + encode(["string"], ["not allowed"]).hex())
    assert message.error_name == "Error" and message.error_args == {"message": "not allowed"}
    panic = decode_revert(selector("Panic(uint256)") + encode(["uint256"], [0x11]).hex())
    assert panic.error_name == "Panic" and panic.error_args == {"code": "0x11"}


@pytest.mark.parametrize("data", ["0x", None, "0xdeadbeef", "0x" + "12" * 40])
def test_unknown_or_empty_revert_data_still_gives_a_contract_revert(data):
    error = decode_revert(data)
    assert isinstance(error, errors.ContractRevert)
    assert error.error_name.startswith("Unknown")


def test_errors_also_inherit_the_builtin_they_resemble():
    assert issubclass(errors.NodeUnreachable, ConnectionError)
    assert issubclass(errors.DeploymentNotFound, LookupError)
    assert issubclass(errors.TransactionTimeout, TimeoutError)
    assert issubclass(errors.PermissionDenied, PermissionError)
    assert issubclass(errors.ConfigurationError, ValueError)
    for cls in (errors.NodeUnreachable, errors.DeploymentNotFound, errors.TransactionTimeout, errors.PermissionDenied):
        assert issubclass(cls, errors.TelcochainError)


@pytest.mark.parametrize(
    ("signature", "types", "values", "expected"),
    [
        (
            "ConstitutionModuleNotAllowed(bytes32,address)",
            ["bytes32", "address"],
            [b"\x01" * 32, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
            {"action": b"\x01" * 32, "module": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"},
        ),
        (
            "ConstitutionModuleCodeChanged(address,bytes28,bytes32)",
            ["address", "bytes28", "bytes32"],
            ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", b"\x02" * 28, b"\x03" * 32],
            {"module": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "pinned": b"\x02" * 28, "actual": b"\x03" * 32},
        ),
        (
            "ConstitutionNameTaken(string,address)",
            ["string", "address"],
            ["ACME", "0x" + "00" * 20],
            {"name": "ACME", "holder": "0x" + "00" * 20},
        ),
        (
            "ConstitutionParamsTooLong(bytes32,uint256,uint256)",
            ["bytes32", "uint256", "uint256"],
            [b"\x04" * 32, 24576, 8192],
            {"action": b"\x04" * 32, "length": 24576, "max": 8192},
        ),
        ("ConstitutionMemberNotSuspended(address)", ["address"], ["0x" + "00" * 20], {"account": "0x" + "00" * 20}),
    ],
)
def test_the_governance_errors_of_wave_2_decode_to_typed_exceptions(signature, types, values, expected):
    error = decode_revert(selector(signature) + encode(types, values).hex())
    name = signature.split("(")[0]
    assert type(error) is errors.contract_error_class(name) and type(error).__name__ == name
    assert isinstance(error, errors.ContractRevert)
    assert error.error_args == expected
