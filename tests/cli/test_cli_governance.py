"""CLI governance: actions, grants, proposals and votes, as operations staff use them."""

from __future__ import annotations

import json


def test_action_list_shows_every_action_with_its_vote(as_member):
    result = as_member(0, "action", "list")
    assert result.exit_code == 0, result.output
    for name in ("addMember", "suspendMember", "amendConstitution", "updatePermissions", "refreshTrustKeys", "voteFor"):
        assert name in result.output
    assert "all members, everyone, 14 d" in result.output  # amendConstitution from consortium.yaml


def test_action_show_lists_each_members_permission(as_member):
    result = as_member(0, "action", "show", "amendConstitution", "--json")
    data = json.loads(result.output)
    assert data["policy"]["name"] == "amendConstitution"
    assert [p["account"] for p in data["permissions"]] == ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]
    table = as_member(0, "action", "show", "amendConstitution")
    assert "Acme Networks" in table.output and "no permission" in table.output


def test_a_proposal_from_the_cli_is_decided_by_votes_from_the_cli(as_member, dev_accounts):
    opened = as_member(0, "member", "add", dev_accounts[8].address, "--name", "Vandelay Industries",
                       "--trust-key", "0x" + "88" * 32, "--ref", "JOIN-VAN", "--json")  # fmt: skip
    assert opened.exit_code == 0, opened.output
    proposal = json.loads(opened.output)["proposal_id"]
    assert json.loads(opened.output)["status"] == "pending_vote"

    listed = as_member(1, "proposal", "list", "--status", "open")
    assert "addMember" in listed.output and "JOIN-VAN" in listed.output
    first = as_member(1, "vote", str(proposal), "--approve")
    assert first.exit_code == 0 and "2/3 approvals so far" in first.output
    decided = as_member(2, "vote", str(proposal), "--approve")
    assert "decided: executed" in decided.output
    shown = json.loads(as_member(3, "proposal", "show", str(proposal), "--json").output)
    assert shown["proposal"]["status"] == "executed"
    members = json.loads(as_member(3, "member", "list", "--json").output)
    assert "Vandelay Industries" in [m["name"] for m in members]


def test_grant_resolves_member_names_and_validates_dates(as_member):
    bad = as_member(0, "action", "grant", "refreshTrustKeys", "Acme Networks", "--from", "next tuesday")
    assert bad.exit_code == 2 and "not a date" in bad.output
    unknown = as_member(0, "action", "grant", "refreshTrustKeys", "Nobody Inc")
    assert (
        unknown.exit_code == 1
        and unknown.output.strip() == "Error: no member 'Nobody Inc' (see `telcochain member list`)"
    )
    missing = as_member(0, "action", "grant", "launchRocket", "Acme Networks")
    assert missing.exit_code == 1 and "no action named 'launchRocket'" in missing.output
    ok = as_member(0, "action", "grant", "refreshTrustKeys", "acme networks", "--until", "2099-01-01", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["status"] == "pending_vote"  # updatePermissions takes a majority vote


def test_amend_from_a_file_opens_a_proposal(as_member, tmp_path):
    file = tmp_path / "amend.yaml"
    file.write_text("actions:\n  refreshTrustKeys:\n    grants: [Northwind Telecom, Acme Networks]\n")
    result = as_member(0, "action", "amend", str(file), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "pending_vote"
    file.write_text("actions: [oops]\n")
    assert as_member(0, "action", "amend", str(file)).exit_code == 2


def test_a_vote_on_a_missing_proposal_is_one_line(as_member):
    result = as_member(1, "vote", "4242", "--reject")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no proposal #4242 (see `telcochain proposal list`)"


def test_vote_requires_a_choice(as_member):
    result = as_member(1, "vote", "1")
    assert result.exit_code == 2 and "--approve" in result.output


def test_a_suspended_member_is_reinstated_from_the_cli(as_member):
    suspended = json.loads(as_member(0, "member", "suspend", "Initech Enterprise", "--json").output)
    for voter in (1, 2):
        as_member(voter, "vote", str(suspended["proposal_id"]), "--approve")
    listed = as_member(0, "member", "list")
    assert any("Initech Enterprise" in line and "suspended" in line for line in listed.output.splitlines())

    refused = as_member(0, "member", "reinstate", "Acme Networks")  # active: refused when proposed
    assert refused.exit_code == 1
    assert refused.output.startswith(
        "Error: reverted: ConstitutionMemberNotSuspended(account=Acme Networks (0x70997970"
    )
    assert len(refused.output.strip().splitlines()) == 1

    opened = as_member(0, "member", "reinstate", "Initech Enterprise", "--ref", "BACK", "--json")
    assert opened.exit_code == 0, opened.output
    decided = as_member(1, "vote", str(json.loads(opened.output)["proposal_id"]), "--approve")
    assert "decided: executed" in decided.output
    members = json.loads(as_member(0, "member", "list", "--json").output)
    assert {m["name"]: m["status"] for m in members}["Initech Enterprise"] == "active"


def test_action_show_names_the_callers_of_an_internal_action_and_the_pinned_code(as_member):
    table = as_member(0, "action", "show", "transition")
    assert table.exit_code == 0, table.output
    assert "OrderBook, OperatorAgreement" in table.output
    assert "pinned code" in table.output
    data = json.loads(as_member(0, "action", "show", "issueInvoice", "--json").output)
    # the agreement and (issue 14) the vendor settlement issue invoices
    assert len(data["policy"]["callers"]) == 2 and data["policy"]["code_hash"].startswith("0x")
