"""The anvil these tests run on is the lean one tests/support/ape_setup.py asks for, and the receipt wait
of tests/support/ape_speed.py is in force: if an ape or ape-foundry upgrade renamed what the
patches replace, they would stop applying without a word — the suite slower by minutes, the
disk filling with anvil's old states — and these tests say so instead."""

from __future__ import annotations

import time


def test_the_contract_tests_anvil_keeps_no_states_on_disk_and_records_no_steps(chain):
    process = chain.provider.process
    assert process is not None, "ape did not start the anvil of the contract tests"
    args = [str(arg) for arg in process.args]
    assert "--steps-tracing" not in args
    at = args.index("--max-persisted-states")
    assert args[at + 1] == "0"


def test_receipts_are_awaited_without_web3s_tenth_of_a_second_sleeps(accounts, monkeypatch):
    from web3.eth import Eth

    assert Eth.wait_for_transaction_receipt.__module__ == "tests.support.ape_speed"
    slept: list[float] = []
    sleep = time.sleep

    def record(seconds: float) -> None:
        slept.append(seconds)
        sleep(seconds)

    monkeypatch.setattr(time, "sleep", record)
    for _ in range(5):
        accounts[0].transfer(accounts[1], 1)
    assert all(seconds < 0.1 for seconds in slept), slept  # web3's own wait sleeps 0.1 s at once


def test_the_contract_tests_keep_apes_snapshot_and_revert(request):
    """tests/support/ape_setup.py switches ape's isolation off for the tests off its chain, not for these."""
    assert "_function_isolation" in request.fixturenames
