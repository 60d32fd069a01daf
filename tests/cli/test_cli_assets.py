"""`telcochain asset ...`: the digital-twin commands as operations staff use them."""

from __future__ import annotations

import json


def test_an_asset_from_registration_to_a_verified_history(as_member):
    registered = as_member(
        0, "asset", "register", "RTR-0001", "--kind", "CPE-ROUTER", "--project", "PRJ-9", "--vendor", "Acme Networks"
    )
    assert registered.exit_code == 0, registered.output
    moved = as_member(0, "asset", "transition", "RTR-0001", "scheduleInstallation", "--ref", "WO-17")
    assert "RTR-0001: scheduleInstallation → PendingInstallation" in moved.output
    assert as_member(1, "asset", "transition", "RTR-0001", "deliver").exit_code == 0
    bind = json.loads(as_member(1, "asset", "bind-serial", "RTR-0001", "FX-778-Q", "--json").output)
    assert bind["status"] == "pending_vote"
    assert "decided: executed" in as_member(0, "vote", str(bind["proposal_id"]), "--approve").output
    assert as_member(0, "asset", "transition", "RTR-0001", "commission").exit_code == 0
    assert as_member(0, "asset", "link", "RTR-0001", "--order", "ORD-55").exit_code == 0

    shown = json.loads(as_member(3, "asset", "show", "RTR-0001", "--json").output)
    assert shown["state"] == "Active" and shown["kind"] == "CPE-ROUTER" and shown["version"] == 7
    assert shown["vendor"] == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" and shown["customer"] is None
    history = as_member(3, "asset", "history", "RTR-0001", "--verify")
    assert history.exit_code == 0, history.output
    for text in ("PendingInstallation → Delivered", "Acme Networks", "WO-17", "verified: 7 changes"):
        assert text in history.output
    data = json.loads(as_member(3, "asset", "history", "RTR-0001", "--verify", "--json").output)
    assert data["verified"] is True and [c["version"] for c in data["changes"]] == [1, 2, 3, 4, 5, 6, 7]


def test_asset_errors_are_one_line(as_member):
    missing = as_member(0, "asset", "show", "NOPE-1")
    assert missing.exit_code == 1 and missing.output.strip() == "Error: no asset 'NOPE-1' (never registered)"
    as_member(0, "asset", "register", "ONT-9", "--kind", "ONT")
    illegal = as_member(0, "asset", "transition", "ONT-9", "commission")
    assert illegal.exit_code == 1
    assert illegal.output.strip() == (
        "Error: reverted: AssetInvalidTransition(assetId='ONT-9', from=Planned, to=Active): "
        "ONT-9 is Planned (asked: Active): request its installation first (telcochain install request)"
    )
    denied = as_member(3, "asset", "transition", "ONT-9", "scheduleInstallation")
    assert denied.exit_code == 1 and "no permission" in denied.output
    bad_verb = as_member(0, "asset", "transition", "ONT-9", "explode")
    assert bad_verb.exit_code == 2
    assert as_member(0, "asset", "link", "ONT-9").exit_code == 2
