"""A Hypothesis state machine drives the registry with random registrations, verbs, internal
transitions and serial bindings over a few assets and serials, and checks every outcome
against a Python model of the lifecycle table and the serial rules."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.support.assets import EDGES, TABLE, VERBS, ZERO32, State, asset_id, serial_hash
from tests.support.dryrun import reverts_with

ASSETS = [asset_id(f"fuzz-{i}") for i in range(3)]
SERIALS = [serial_hash(f"fuzz-{i}") for i in range(3)]
# verbs by how far they carry an asset along its life
FORWARD = [
    "scheduleInstallation",
    "deliver",
    "commission",
    "requestChange",
    "completeChange",
    "requestDisconnect",
    "completeDisconnect",
    "recover",
    "decommission",
    "cancelInstallation",
    "completeDeletion",
    "withdrawDisconnect",
]


@dataclass
class Twin:
    state: State
    serial: bytes
    version: int


class Model:
    """The lifecycle and serial rules, as the docs state them."""

    def __init__(self) -> None:
        self.twins: dict[bytes, Twin] = {}
        self.holder: dict[bytes, bytes] = {}  # serial -> live asset

    def register(self, asset: bytes, serial: bytes):
        """None if allowed, else (error, inputs)."""
        if asset in self.twins:
            return "AssetAlreadyExists", {"assetId": asset}
        if serial != ZERO32 and serial in self.holder:
            return "AssetSerialAlreadyBound", {"serialHash": serial, "assetId": self.holder[serial]}
        self.twins[asset] = Twin(State.PLANNED, serial, 2)  # registered, then its vendor named (setParties)
        if serial != ZERO32:
            self.holder[serial] = asset
        return None

    def move(self, asset: bytes, allowed: bool, to: State):
        twin = self.twins.get(asset)
        if twin is None:
            return "AssetNotFound", {"assetId": asset}
        if not allowed:
            return "AssetInvalidTransition", {"assetId": asset, "from": twin.state, "to": to}
        if to is State.ACTIVE and twin.serial == ZERO32:
            return "AssetSerialRequired", {"assetId": asset}
        if to is State.DECOMMISSIONED and twin.serial != ZERO32:
            del self.holder[twin.serial]
        twin.state, twin.version = to, twin.version + 1
        return None

    def verb(self, asset: bytes, verb: str):
        froms, to = TABLE[verb]
        twin = self.twins.get(asset)
        return self.move(asset, twin is not None and twin.state in froms, to)

    def transition(self, asset: bytes, to: State):
        twin = self.twins.get(asset)
        return self.move(asset, twin is not None and (twin.state, to) in EDGES, to)

    def bind(self, asset: bytes, serial: bytes):
        twin = self.twins.get(asset)
        if twin is None:
            return "AssetNotFound", {"assetId": asset}
        if twin.state is State.DECOMMISSIONED:
            return "AssetAlreadyDecommissioned", {"assetId": asset}
        if twin.serial != ZERO32:
            return "AssetSerialAlreadySet", {"assetId": asset}
        if serial in self.holder:
            return "AssetSerialAlreadyBound", {"serialHash": serial, "assetId": self.holder[serial]}
        twin.serial, twin.version = serial, twin.version + 1
        self.holder[serial] = asset
        return None


def test_the_registry_follows_the_model(consortium, chain):
    class RegistryMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.model = Model()

        def teardown(self) -> None:
            chain.restore(self.snapshot)

        def _expect(self, outcome, action) -> None:
            if outcome is None:
                action()
            else:
                name, inputs = outcome
                with reverts_with(name, **{k: int(v) if isinstance(v, State) else v for k, v in inputs.items()}):
                    action()

        @initialize(serial=st.sampled_from([ZERO32, *SERIALS]))
        def two_assets(self, serial):
            self.register(ASSETS[0], ZERO32)
            self.register(ASSETS[1], serial)

        @rule(asset=st.sampled_from(ASSETS), serial=st.sampled_from([ZERO32, *SERIALS]))
        def register(self, asset, serial):
            def register_and_name_the_vendor():
                consortium.register(asset, serial=serial)
                consortium.parties(asset, vendor=consortium.vendor)

            self._expect(self.model.register(asset, serial), register_and_name_the_vendor)

        @rule(asset=st.sampled_from(ASSETS), verb=st.sampled_from(VERBS))
        def verb(self, asset, verb):
            self._expect(self.model.verb(asset, verb), lambda: consortium.verb(verb, asset))

        def _advance(self, asset, pick, bind_first):
            """A step along the table (random verbs rarely go deep): register the asset, bind a
            free serial before commissioning (or not), or apply a verb allowed in its state."""
            twin = self.model.twins.get(asset)
            if twin is None:
                return self.register(asset, ZERO32)
            allowed = sorted((v for v in VERBS if twin.state in TABLE[v][0]), key=FORWARD.index)
            if not allowed:
                return None
            # mostly forward along the life, sometimes any allowed verb
            verb = allowed[0] if pick < 8 else allowed[pick % len(allowed)]
            free = [s for s in SERIALS if s not in self.model.holder]
            if TABLE[verb][1] is State.ACTIVE and twin.serial == ZERO32 and free and bind_first:
                return self.bind(asset, free[0])
            return self.verb(asset, verb)

        @rule(
            asset=st.sampled_from(ASSETS),
            picks=st.lists(st.integers(0, 11), min_size=1, max_size=4),
            bind_first=st.booleans(),
        )
        def walk(self, asset, picks, bind_first):
            for pick in picks:
                self._advance(asset, pick, bind_first)

        @rule(
            asset=st.sampled_from(ASSETS),
            picks=st.lists(st.integers(0, 11), min_size=1, max_size=4),
            bind_first=st.booleans(),
        )
        def walk_again(self, asset, picks, bind_first):
            self.walk(asset, picks, bind_first)

        @rule(asset=st.sampled_from(ASSETS), to=st.sampled_from(list(State)))
        def transition(self, asset, to):
            self._expect(self.model.transition(asset, to), lambda: consortium.internal_transition(asset, to))

        @rule(asset=st.sampled_from(ASSETS), serial=st.sampled_from(SERIALS))
        def bind(self, asset, serial):
            self._expect(self.model.bind(asset, serial), lambda: consortium.bind(asset, serial))

        @invariant()
        def chain_matches_model(self) -> None:
            registry = consortium.registry
            for asset in ASSETS:
                view = registry.getAsset(asset)
                twin = self.model.twins.get(asset)
                if twin is None:
                    assert (view.exists, view.state, view.version) == (False, 0, 0)
                else:
                    assert (State(view.state), bytes(view.serialHash), view.version) == (
                        twin.state,
                        twin.serial,
                        twin.version,
                    )
            for serial in SERIALS:
                assert bytes(registry.assetOfSerial(serial)) == self.model.holder.get(serial, ZERO32)

    run_state_machine_as_test(
        RegistryMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
            # no shrinking: a step costs a transaction; a failing run prints its (short) steps
            phases=[Phase.explicit, Phase.generate],
        ),
    )
