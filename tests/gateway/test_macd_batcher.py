"""The MACD micro-batcher's rules, with a recording stand-in for the agreement (the real bulk
path is exercised over HTTP in test_gateway_http.py): concurrent submissions share one call per
(kind, customer), a call never carries a twin twice or more than 256 twins, a failed bulk call
is retried one submission at a time so that only the offending one fails, a denial fails all;
whole orders are checked against the index once per batch, split by (kind, customer), and an
order with a twin the index does not show Active (or one changed moments ago) sends nothing."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import wait
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from telcochain.agreement import MacdKind
from telcochain.assets import AssetState
from telcochain.errors import ContractRevert, PermissionDenied
from telcochain.gateway.macd import ACTIVE, MacdBatcher, OrderItem, Submission, Unchecked, _groups

BAD = "0x" + "bb" * 32


@dataclass
class Agreement:
    """Records each call; a call containing BAD reverts, like the atomic bulk call on chain."""

    calls: list[tuple[MacdKind, list[bytes]]] = field(default_factory=list)
    deny: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request_change(self, kind: MacdKind, assets: list[bytes], *, ref: str) -> list[Any]:
        with self.lock:
            self.calls.append((kind, list(assets)))
            block = len(self.calls)
        if self.deny:
            raise PermissionDenied("orderChanges", "0xabc", "no permission")
        if bytes.fromhex(BAD[2:]) in assets:
            raise ContractRevert("AgreementNotActive", {"assetId": BAD})
        receipt = SimpleNamespace(block_number=block, tx_hash=f"0x{block:064x}")
        return [SimpleNamespace(result=SimpleNamespace(receipt=receipt))]


def twin(n: int) -> str:
    return "0x" + f"{n:064x}"


def batcher(agreement: Agreement, window_ms: int = 300, record: Any = None) -> MacdBatcher:
    b = MacdBatcher(SimpleNamespace(agreement=agreement), window_ms, record=record)  # type: ignore[arg-type]
    b.start()
    return b


def test_concurrent_submissions_share_one_call_per_kind_and_customer() -> None:
    agreement, recorded = Agreement(), []
    b = batcher(agreement, record=recorded.extend)
    try:
        futures = [b.submit(MacdKind.MOVE, "0xC1", [twin(n)], [{"order_id": f"O{n}"}]) for n in range(5)]
        futures.append(b.submit(MacdKind.CHANGE, "0xC1", [twin(9)], [{"order_id": "O9"}]))
        futures.append(b.submit(MacdKind.MOVE, "0xC2", [twin(10)], [{"order_id": "O10"}]))
        done, _ = wait(futures, timeout=30)
        sent = [f.result() for f in futures]
    finally:
        b.stop()
    assert len(done) == 7
    assert sorted((k, len(a)) for k, a in agreement.calls) == [
        (MacdKind.MOVE, 1),
        (MacdKind.MOVE, 5),
        (MacdKind.CHANGE, 1),
    ]
    assert len({s.ref for s in sent[:5]}) == 1 and sent[0].batched_with == 5  # one call for the five moves
    assert len({s.ref for s in sent}) == 3
    assert {r["order_id"]: r["ref"] for r in recorded}["O3"] == sent[3].ref  # rows recorded with their call's ref


def test_a_failed_bulk_call_is_retried_one_submission_at_a_time() -> None:
    agreement = Agreement()
    b = batcher(agreement)
    try:
        good = [b.submit(MacdKind.ADD, "0xC1", [twin(n)]) for n in range(3)]
        bad = b.submit(MacdKind.ADD, "0xC1", [BAD])
        wait([*good, bad], timeout=30)
    finally:
        b.stop()
    assert all(f.exception() is None for f in good)
    with pytest.raises(ContractRevert):
        bad.result()
    assert len(agreement.calls[0][1]) == 4  # the bulk try, then one call each
    assert sorted(len(a) for _, a in agreement.calls[1:]) == [1, 1, 1, 1]


def test_a_denial_fails_every_submission_of_the_call_without_retries() -> None:
    agreement = Agreement(deny=True)
    b = batcher(agreement)
    try:
        futures = [b.submit(MacdKind.DELETE, "0xC1", [twin(n)]) for n in range(3)]
        wait(futures, timeout=30)
    finally:
        b.stop()
    assert all(isinstance(f.exception(), PermissionDenied) for f in futures)
    assert len(agreement.calls) == 1


def test_groups_never_repeat_a_twin_nor_exceed_the_bulk_limit() -> None:
    subs = [Submission(MacdKind.MOVE, "0xC1", [twin(n) for n in range(i * 100, i * 100 + 100)]) for i in range(3)]
    subs.append(Submission(MacdKind.MOVE, "0xC1", [twin(5)]))  # the same twin as in the first submission
    groups = _groups(subs)
    for group in groups:
        assets = [a for s in group for a in s.assets]
        assert len(assets) <= 256 and len(set(assets)) == len(assets)
    # 100 + 100 twins share a call; the third hundred would pass 256: a second call, which also
    # takes the submission that repeats a twin of the first
    assert [[subs.index(x) for x in g] for g in groups] == [[0, 1], [2, 3]]


# -- whole orders: checked per micro-batch, split by customer, answered from the receipts ---------


def order_batcher(
    agreement: Agreement, known: Mapping[str, tuple[int, str | None]], reads: list[list[str]]
) -> MacdBatcher:
    def lookup(ids: list[str]) -> dict[str, tuple[int, str | None]]:
        reads.append(sorted(ids))
        return {a: known[a] for a in ids if a in known}

    b = MacdBatcher(SimpleNamespace(agreement=agreement), 300, lookup=lookup)  # type: ignore[arg-type]
    b.start()
    return b


def test_orders_are_checked_in_one_index_read_per_batch_and_split_by_kind_and_customer() -> None:
    agreement, reads = Agreement(), list[list[str]]()
    known = {twin(n): (ACTIVE, "0xC1" if n < 5 else "0xC2") for n in range(10)}
    b = order_batcher(agreement, known, reads)
    try:
        first = b.submit_order(
            [OrderItem("1", MacdKind.MOVE, [twin(0), twin(5)]), OrderItem("2", MacdKind.ADD, [twin(1)])],
            {"order_id": "MACD-1"},
        )
        second = b.submit_order([OrderItem("1", MacdKind.MOVE, [twin(2)])], {"order_id": "MACD-2"})
        placed = first.result(timeout=30)
        other = second.result(timeout=30)
    finally:
        b.stop()
    assert reads == [sorted([twin(0), twin(5), twin(1), twin(2)])]  # one read for both orders
    # move for C1 (twins 0 and 2 of two orders share a call), move for C2, add for C1
    assert sorted((k, sorted(a)) for k, a in agreement.calls) == sorted(
        [
            (MacdKind.MOVE, sorted(bytes.fromhex(twin(n)[2:]) for n in (0, 2))),
            (MacdKind.MOVE, [bytes.fromhex(twin(5)[2:])]),
            (MacdKind.ADD, [bytes.fromhex(twin(1)[2:])]),
        ]
    )
    assert sorted((p.item_id, tuple(p.assets)) for p in placed) == [
        ("1", (twin(0),)), ("1", (twin(5),)), ("2", (twin(1),)),
    ]  # fmt: skip
    assert other[0].sent.ref == next(p.sent.ref for p in placed if p.assets == [twin(0)])


def test_an_order_naming_an_unknown_or_changing_twin_fails_whole_and_sends_nothing() -> None:
    agreement, reads = Agreement(), list[list[str]]()
    known = {twin(1): (ACTIVE, "0xC1"), twin(2): (int(AssetState.PENDING_CHANGE), "0xC1")}
    b = order_batcher(agreement, known, reads)
    try:
        unknown = b.submit_order([OrderItem("1", MacdKind.MOVE, [twin(1), twin(9)])], {"order_id": "A"})
        changing = b.submit_order([OrderItem("1", MacdKind.MOVE, [twin(2)])], {"order_id": "B"})
        wait([unknown, changing], timeout=30)
    finally:
        b.stop()
    with pytest.raises(Unchecked) as missing:
        unknown.result()
    assert missing.value.missing == [twin(9)]
    with pytest.raises(Unchecked) as busy:
        changing.result()
    assert busy.value.not_active == {twin(2): int(AssetState.PENDING_CHANGE)}
    assert agreement.calls == []


def test_a_twin_changed_moments_ago_is_not_trusted_to_the_index_read() -> None:
    agreement, reads = Agreement(), list[list[str]]()
    b = order_batcher(agreement, {twin(1): (ACTIVE, "0xC1")}, reads)
    try:
        b.submit_order([OrderItem("1", MacdKind.MOVE, [twin(1)])], {"order_id": "A"}).result(timeout=30)
        again = b.submit_order([OrderItem("1", MacdKind.CHANGE, [twin(1)])], {"order_id": "B"})
        wait([again], timeout=30)
    finally:
        b.stop()
    with pytest.raises(Unchecked):  # the index (a stale read here) still says Active
        again.result()
    assert len(agreement.calls) == 1
