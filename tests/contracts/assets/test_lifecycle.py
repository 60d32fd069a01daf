"""The lifecycle: THE transition table (contracts/libraries/AssetLifecycle.sol), exercised over
every (state, verb) pair and every (state, target) pair of the Internal ``transition``, and
mirrored in docs/assets.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.assets import EDGES, TABLE, VERBS, ZERO32, State, asset_id, details, serial_hash, verb_of
from tests.support.dryrun import reverts_with

DOCS = Path(__file__).resolve().parents[3] / "docs" / "assets.md"


def camel(state: State) -> str:
    return "".join(part.capitalize() for part in state.name.split("_"))


@pytest.fixture(scope="module")
def asset_in(consortium):
    """One asset in each state but None, every one with a serial bound at registration."""
    assets = {}
    for state in State:
        if state is State.NONE:
            continue
        assets[state] = asset_id(f"table-{state.name}")
        consortium.drive(assets[state], state, serial=serial_hash(f"table-{state.name}"))
    return assets


ALLOWED = [(verb, from_) for verb, (froms, _) in TABLE.items() for from_ in sorted(froms)]
FORBIDDEN = [
    (verb, from_) for verb in VERBS for from_ in State if from_ is not State.NONE and from_ not in TABLE[verb][0]
]


def _id(pair) -> str:
    verb, from_ = pair
    return f"{verb}-from-{camel(from_)}"


@pytest.mark.parametrize("verb,from_", ALLOWED, ids=[_id(p) for p in ALLOWED])
def test_a_verb_moves_the_asset_along_its_edge(consortium, registry, asset_in, verb, from_):
    asset = asset_in[from_]
    before = registry.getAsset(asset)
    receipt = consortium.verb(verb, asset, details(verb))

    to = TABLE[verb][1]
    after = registry.getAsset(asset)
    assert State(after.state) is to
    assert after.version == before.version + 1
    assert bytes(after.historyHead) != bytes(before.historyHead)
    (event,) = registry.AssetTransitioned.from_receipt(receipt)
    args = event.event_arguments
    assert (State(args["from"]), State(args["to"])) == (from_, to)
    assert (args["version"], bytes(args["head"])) == (after.version, bytes(after.historyHead))
    assert bytes(args["detailsHash"]) == details(verb)
    assert args["actor"] == consortium.holder(verb).address


@pytest.mark.parametrize("verb,from_", FORBIDDEN, ids=[_id(p) for p in FORBIDDEN])
def test_a_verb_outside_its_edges_reverts_and_changes_nothing(consortium, asset_in, verb, from_):
    asset = asset_in[from_]
    before = consortium.snapshot(asset)
    with reverts_with("AssetInvalidTransition", assetId=asset, **{"from": int(from_), "to": int(TABLE[verb][1])}):
        consortium.verb(verb, asset)
    assert consortium.snapshot(asset) == before


@pytest.mark.parametrize("verb", VERBS)
def test_a_verb_on_an_unknown_asset_reverts_AssetNotFound(consortium, verb):
    unknown = asset_id("never-registered")
    with reverts_with("AssetNotFound", assetId=unknown):
        consortium.verb(verb, unknown)


def test_every_edge_belongs_to_exactly_one_verb():
    labelled = [(f, to) for froms, to in TABLE.values() for f in froms]
    assert len(labelled) == len(set(labelled)) == len(EDGES)
    assert all(verb_of(f, to) is not None for f, to in EDGES)


def test_decommissioned_is_terminal_and_none_is_unreachable():
    assert not any(f is State.DECOMMISSIONED for f, _ in EDGES)
    assert not any(State.NONE in (f, to) for f, to in EDGES)
    # every live state can still reach Decommissioned
    reach = {State.DECOMMISSIONED}
    while True:
        more = {f for f, to in EDGES if to in reach} - reach
        if not more:
            break
        reach |= more
    assert reach == set(State) - {State.NONE}


# --------------------------------------------------------------------------------------------
# The Internal `transition`, for other modules: any edge of the table
# --------------------------------------------------------------------------------------------

EDGE_LIST = sorted(EDGES)


@pytest.mark.parametrize("from_,to", EDGE_LIST, ids=[f"{camel(f)}-to-{camel(t)}" for f, t in EDGE_LIST])
def test_internal_transition_follows_every_edge_for_the_original_caller(consortium, registry, asset_in, from_, to):
    asset = asset_in[from_]
    version = registry.getAsset(asset).version
    receipt = consortium.internal_transition(asset, to, details("internal"))
    assert State(registry.stateOf(asset)) is to
    (event,) = registry.AssetTransitioned.from_receipt(receipt)
    # the member who sent the outer action, not the calling module
    assert event.actor == consortium.operator.address
    assert event.version == version + 1


@pytest.mark.parametrize("from_", [s for s in State if s is not State.NONE], ids=camel)
def test_internal_transition_refuses_every_pair_outside_the_table(consortium, asset_in, from_):
    asset = asset_in[from_]
    before = consortium.snapshot(asset)
    for to in State:
        if (from_, to) in EDGES:
            continue
        with reverts_with("AssetInvalidTransition", assetId=asset, **{"from": int(from_), "to": int(to)}):
            consortium.internal_transition(asset, to)
    for bogus in (len(State), 255):
        with reverts_with("AssetUnknownState", state=bogus):
            consortium.internal_transition(asset, bogus)
    assert consortium.snapshot(asset) == before


def test_internal_transition_of_an_unknown_asset_reverts_AssetNotFound(consortium):
    unknown = asset_id("nobody")
    with reverts_with("AssetNotFound", assetId=unknown):
        consortium.internal_transition(unknown, State.PLANNED)


def test_internal_transition_into_active_still_needs_a_serial(consortium):
    asset = asset_id("internal-no-serial")
    consortium.drive(asset, State.DELIVERED)
    with reverts_with("AssetSerialRequired", assetId=asset):
        consortium.internal_transition(asset, State.ACTIVE)


# --------------------------------------------------------------------------------------------
# One table: the chain, this mirror and the docs agree
# --------------------------------------------------------------------------------------------


def test_the_on_chain_table_equals_the_mirror(registry):
    for index, (verb, (froms, to)) in enumerate(TABLE.items()):
        mask, target = registry.verbRule(index)
        assert {s for s in State if mask >> s & 1} == set(froms), verb
        assert State(target) is to, verb
    for from_ in State:
        for to in State:
            assert registry.canTransition(from_, to) == ((from_, to) in EDGES), (from_, to)


def test_the_docs_table_lists_every_edge_with_its_verb():
    text = DOCS.read_text()
    section = text.split("## Transition table", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|\s*`(\w+)`\s*\|\s*(\w+)\s*\|\s*(\w+)\s*\|\s*(.+?)\s*\|\s*$", section, re.M)
    by_name = {camel(s): s for s in State}
    documented = {(verb, by_name[f], by_name[t]) for verb, f, t, _why in rows}
    expected = {(verb, f, to) for verb, (froms, to) in TABLE.items() for f in froms}
    assert documented == expected
    assert all(why.strip() for *_, why in rows)


def test_details_hash_is_carried_not_required(consortium, registry):
    asset = asset_id("no-details")
    consortium.register(asset)
    receipt = consortium.verb("scheduleInstallation", asset, ZERO32)
    (event,) = registry.AssetTransitioned.from_receipt(receipt)
    assert bytes(event.detailsHash) == ZERO32
