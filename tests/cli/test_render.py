"""telcochain.render: errors in plain words, driven by the ABIs' error types (no chain needed)."""

from __future__ import annotations

import json

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from telcochain.errors import decode_revert
from telcochain.render import Names, render, render_event


def revert(signature: str, types: list[str], values: list) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, values)).hex()


def test_enum_parameters_are_shown_by_name_with_the_next_step():
    data = revert("AssetInvalidTransition(bytes32,uint8,uint8)", ["bytes32", "uint8", "uint8"], [b"ONT-7", 2, 4])
    text = render(decode_revert(data))
    assert text.startswith("reverted: AssetInvalidTransition(assetId='ONT-7', from=PendingInstallation, to=Active)")
    assert "ONT-7 is PendingInstallation" in text and "the vendor must deliver it first" in text


def test_untyped_uint8_states_and_statuses_are_named_too():
    data = revert("AgreementNotFunded(bytes32,uint256,uint8)", ["bytes32", "uint256", "uint8"], [b"ONT-9", 4, 1])
    assert "status=issued" in render(decode_revert(data))
    data = revert("OrderLineInvalidState(bytes32,uint8)", ["bytes32", "uint8"], [b"L-1", 5])
    assert "state=inProgress" in render(decode_revert(data))
    data = revert("ConstitutionProposalNotOpen(uint256,uint8)", ["uint256", "uint8"], [3, 2])
    assert "status=Executed" in render(decode_revert(data)) and "takes no more votes" in render(decode_revert(data))


def test_amounts_dates_and_addresses_without_a_client_stay_exact():
    data = revert("EscrowReclaimTooEarly(uint256,uint64)", ["uint256", "uint64"], [7, 1_800_000_000])
    assert "reclaimableAt=2027-01-15 08:00 UTC" in render(decode_revert(data))
    data = revert("ERC20InsufficientBalance(address,uint256,uint256)", ["address", "uint256", "uint256"],
                  ["0x" + "00" * 20, 5, 250])  # fmt: skip
    text = render(decode_revert(data))
    assert "sender=nobody" in text and "needed=250 base units" in text


def test_every_error_renders_in_one_line():
    assert render(json.JSONDecodeError("Expecting value", "x\ny", 2)).startswith("not valid JSON")
    assert render(ValueError("two\nlines")) == "unexpected ValueError: two lines"
    assert render(FileNotFoundError(2, "No such file or directory", "/nope")) == "/nope: No such file or directory"
    assert "reverted without a reason" in render(decode_revert("0x"))
    assert render(decode_revert("0xdeadbeef")).startswith("reverted: UnknownError[0xdeadbeef]")


def test_events_in_words_skip_zero_refs():
    line = render_event(
        "AssetRegistry",
        "AssetTransitioned",
        {"assetId": b"ONT-1".ljust(32, b"\0"), "ref": b"\0" * 32, "from": 1, "to": 2},
        names=Names(None),
    )
    assert line == "AssetRegistry.AssetTransitioned(assetId='ONT-1', from=Planned, to=PendingInstallation)"


def test_a_bilateral_customer_and_a_bad_tariff_are_named_with_the_next_step():
    customer = "0x" + "ab" * 20
    text = render(decode_revert(revert("AgreementBilateralTerms(address)", ["address"], [customer])))
    assert "is registered with its own terms" in text and "telcochain customer request" in text
    bad = revert("AgreementInvalidTerm(bytes32,int256)", ["bytes32", "int256"], [b"macd3", 2**80])
    assert f"the delete tariff term is out of range ({2**80})" in render(decode_revert(bad))
    other = revert("AgreementInvalidTerm(bytes32,int256)", ["bytes32", "int256"], [b"installation", -1])
    assert "the installation term is out of range (-1)" in render(decode_revert(other))
