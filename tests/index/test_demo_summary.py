"""The demo's closing analytics section: a report and an alert for a misuse step."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from telcochain import Client
from telcochain.errors import TelcochainError
from telcochain.index.demo import demo_summary

from tests.index.flows import Members, normal_flow
from tests.index.test_alerts import probe_raw


def test_the_demo_summary_reports_the_flow_and_flags_the_intruder(
    members: Members,
    local_node,
    deployment_path,
    dev_accounts,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    normal_flow(members)
    intruder = Client.connect(local_node.rpc_url, dev_accounts[8], deployment=deployment_path)
    with pytest.raises(TelcochainError):  # refused by the SDK before sending
        intruder.constitution.rotate_trust_key(bytes.fromhex("cd" * 32), ref="DEMO-INTRUDER")
    probe_raw(intruder, dev_accounts[8])  # a raw client sends anyway: a reverted transaction
    out = io.StringIO()
    summary = demo_summary(  # type: ignore[call-arg]
        local_node.rpc_url, deployment_path, db_url=f"sqlite:///{tmp_path / 'demo.sqlite'}",
        console=Console(file=out, width=160),
    )  # fmt: skip
    text = " ".join(out.getvalue().split())  # a long database path (a worker's tmp dir) wraps lines
    assert summary.mismatches == 0  # type: ignore[attr-defined]
    assert [a.rule for a in summary.alerts] == ["non_member_probe"]  # type: ignore[attr-defined]
    assert "index verify: 0 mismatches" in text
    assert "MACD pending: ONT-BR1-1 (move)" in text
    assert "non_member_probe" in text and dev_accounts[8].address in text
