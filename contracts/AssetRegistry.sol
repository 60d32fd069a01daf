// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAssetRegistry} from "./interfaces/IAssetRegistry.sol";
import {IConstitution} from "./interfaces/IConstitution.sol";
import {AssetHistory} from "./libraries/AssetHistory.sol";
import {AssetLifecycle} from "./libraries/AssetLifecycle.sol";
import {ConstitutionModule} from "./modules/ConstitutionModule.sol";

/// @title AssetRegistry
/// @notice The digital twins (seed 000 "Digital Twin Synchronization", seed 001 "LCM model
/// assumptions for asset"): asset id → lifecycle state, serial hash, custodian, version and
/// history head. A Constitution module: see {IAssetRegistry} for the actions and docs/assets.md.
/// @dev Design notes:
/// - The transition table lives in {AssetLifecycle} only; each verb entry point asks it for its
///   row, the Internal `transition` for any edge. `bulkTransition` applies one verb's row to a
///   list of assets (the same per-asset code as the single verb) after checking, through the
///   Constitution's `canExecute`, that the caller holds that verb's own permission.
/// - Storage per asset: slot 0 = history head (192 bits) + version + state + serial flag, so a
///   transition reads and writes one slot; slot 1 = custodian + kind; slot 2 = serial hash
///   (only once bound). Plus `serial hash → asset id` for the live assets.
/// - History lives in events; storage only keeps the head of the hash chain ({AssetHistory}).
///   Links live in events only (no growing arrays).
contract AssetRegistry is IAssetRegistry, ConstitutionModule {
    using AssetLifecycle for AssetLifecycle.State;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev An asset: head, version, state and the serial, open-line and has-customer flags share
    /// slot 0 (a transition and the "held by a flow" check read one slot); custodian + kind slot
    /// 1; customer + served (an agreement serves the customer) slot 2; vendor slot 3; the serial
    /// hash slot 4 (only once bound).
    struct Asset {
        bytes24 head;
        uint32 version;
        AssetLifecycle.State state;
        bool hasSerial;
        bool onLine;
        bool hasCustomer;
        address custodian;
        bytes12 kind;
        address customer;
        bool served;
        address vendor;
        bytes32 serialHash;
    }

    /// @dev The params of `register` (a static tuple: the same encoding as the flat list).
    struct Registration {
        bytes32 assetId;
        bytes12 kind;
        bytes32 serialHash;
        bytes32 rootId;
        bytes32 orderId;
        bytes32 detailsHash;
    }

    /// @dev A twin's parties as {assignParties} takes them (a static tuple).
    struct Parties {
        address customer;
        address vendor;
        bool onLine;
        bool served;
    }

    /// @notice The maximum number of assets of one {bulkTransition}.
    uint256 public constant MAX_BULK = 256;

    bytes32 private constant _BIND_SERIAL = keccak256("bindSerial");

    mapping(bytes32 assetId => Asset) private _assets;
    mapping(bytes32 serialHash => bytes32 assetId) private _assetOfSerial;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param constitution The Constitution whose actions this module implements.
    constructor(IConstitution constitution) ConstitutionModule(constitution) {}

    /*//////////////////////////////////////////////////////////////
                            ACTIONS: RECORD
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAssetRegistry
    function register(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        Registration memory r = abi.decode(params, (Registration));
        if (r.assetId == bytes32(0)) revert AssetInvalidId();
        Asset storage a = _assets[r.assetId];
        if (a.state != AssetLifecycle.State.None) revert AssetAlreadyExists(r.assetId);
        if (r.serialHash != bytes32(0)) {
            _checkDirectBinding(r.assetId, caller);
            _claimSerial(a, r.assetId, r.serialHash);
            a.hasSerial = true;
        }
        (a.state, a.custodian, a.kind) = (AssetLifecycle.State.Planned, caller, r.kind);
        (uint32 version, bytes24 head) = _record(
            a,
            r.assetId,
            AssetHistory.ChangeKind.Register,
            ref,
            caller,
            r.detailsHash,
            [bytes32(r.kind), r.serialHash, r.rootId, r.orderId]
        );
        emit AssetRegistered(
            r.assetId, ref, caller, r.kind, r.serialHash, r.rootId, r.orderId, r.detailsHash, version, head
        );
    }

    /// @inheritdoc IAssetRegistry
    function bindSerial(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 serialHash, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32, bytes32));
        Asset storage a = _live(assetId);
        if (a.hasSerial) revert AssetSerialAlreadySet(assetId);
        if (serialHash == bytes32(0)) revert AssetInvalidSerial();
        _claimSerial(a, assetId, serialHash);
        a.hasSerial = true;
        (uint32 version, bytes24 head) =
            _record(a, assetId, AssetHistory.ChangeKind.SerialBind, ref, caller, detailsHash, [serialHash, 0, 0, 0]);
        emit AssetSerialBound(assetId, ref, caller, serialHash, detailsHash, version, head);
    }

    /// @inheritdoc IAssetRegistry
    function link(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 rootId, bytes32 orderId, bytes32 detailsHash) =
            abi.decode(params, (bytes32, bytes32, bytes32, bytes32));
        Asset storage a = _live(assetId);
        if (rootId == bytes32(0) && orderId == bytes32(0)) revert AssetInvalidLink(assetId);
        (uint32 version, bytes24 head) =
            _record(a, assetId, AssetHistory.ChangeKind.Link, ref, caller, detailsHash, [rootId, orderId, 0, 0]);
        emit AssetLinked(assetId, ref, caller, rootId, orderId, detailsHash, version, head);
    }

    /// @inheritdoc IAssetRegistry
    function transferCustody(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, address custodian, bytes32 detailsHash) = abi.decode(params, (bytes32, address, bytes32));
        Asset storage a = _live(assetId);
        if (a.custodian != caller) revert AssetNotCustodian(assetId, caller);
        if (custodian == caller || !CONSTITUTION.isActiveMember(custodian)) {
            revert AssetInvalidCustodian(assetId, custodian);
        }
        a.custodian = custodian;
        bytes32[4] memory data = [bytes32(uint256(uint160(caller))), bytes32(uint256(uint160(custodian))), 0, 0];
        (uint32 version, bytes24 head) =
            _record(a, assetId, AssetHistory.ChangeKind.CustodyTransfer, ref, caller, detailsHash, data);
        emit AssetCustodyTransferred(assetId, ref, caller, caller, custodian, detailsHash, version, head);
    }

    /// @inheritdoc IAssetRegistry
    function setParties(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, address customer, address vendor, bytes32 detailsHash) =
            abi.decode(params, (bytes32, address, address, bytes32));
        Asset storage a = _live(assetId);
        if (a.custodian != caller) revert AssetNotCustodian(assetId, caller);
        AssetLifecycle.State state = a.state;
        // a twin an agreement serves (or an open line holds) is the flow's: only it releases it
        if (a.onLine || a.served || (state != AssetLifecycle.State.Planned && state != AssetLifecycle.State.Inactive)) {
            revert AssetHeldByFlow(assetId, a.customer, a.onLine);
        }
        _setParties(a, assetId, Parties(customer, vendor, false, false), caller, ref, detailsHash);
    }

    /// @inheritdoc IAssetRegistry
    function assignParties(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, uint8 op, address customer, address vendor, bytes32 detailsHash) =
            abi.decode(params, (bytes32, uint8, address, address, bytes32));
        Asset storage a = _live(assetId);
        Parties memory want = Parties(customer, vendor, false, false);
        Parties memory next = Parties(a.customer, a.vendor, a.onLine, a.served);
        if (op == uint8(PartyOp.BindLine) || op == uint8(PartyOp.SetCustomer)) {
            if (next.customer != address(0) && next.customer != want.customer) {
                revert AssetPartyConflict(assetId, next.customer, want.customer);
            }
            next.customer = want.customer;
            if (op == uint8(PartyOp.BindLine)) {
                if (next.onLine) revert AssetPartyConflict(assetId, next.vendor, want.vendor);
                (next.vendor, next.onLine) = (want.vendor, true);
            } else {
                next.served = true; // the agreement serves this customer: only its flows release the twin
            }
        } else if (op == uint8(PartyOp.ReleaseLine)) {
            next.onLine = false;
        } else if (op == uint8(PartyOp.ClearCustomer)) {
            (next.customer, next.served) = (address(0), false);
        } else {
            revert AssetUnknownPartyOp(op);
        }
        _setParties(a, assetId, next, caller, ref, detailsHash);
    }

    /*//////////////////////////////////////////////////////////////
                          ACTIONS: LIFECYCLE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAssetRegistry
    function scheduleInstallation(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.ScheduleInstallation, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function cancelInstallation(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.CancelInstallation, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function deliver(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.Deliver, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function commission(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.Commission, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function requestChange(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.RequestChange, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function completeChange(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.CompleteChange, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function completeDeletion(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.CompleteDeletion, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function requestDisconnect(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.RequestDisconnect, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function withdrawDisconnect(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.WithdrawDisconnect, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function completeDisconnect(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.CompleteDisconnect, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function recover(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.Recover, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function decommission(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        _applyVerb(AssetLifecycle.Verb.Decommission, caller, ref, params);
    }

    /// @inheritdoc IAssetRegistry
    function transition(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, uint8 rawTo, bytes32 detailsHash) = abi.decode(params, (bytes32, uint8, bytes32));
        if (rawTo > uint8(type(AssetLifecycle.State).max)) revert AssetUnknownState(rawTo);
        AssetLifecycle.State to = AssetLifecycle.State(rawTo);
        Asset storage a = _existing(assetId);
        AssetLifecycle.State from = a.state;
        if (!AssetLifecycle.canTransition(from, to)) revert AssetInvalidTransition(assetId, from, to);
        _enter(a, assetId, from, to, caller, ref, detailsHash);
    }

    /// @inheritdoc IAssetRegistry
    function bulkTransition(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (uint8 rawVerb, bytes32[] memory assetIds, bytes32 detailsHash) =
            abi.decode(params, (uint8, bytes32[], bytes32));
        if (rawVerb > uint8(type(AssetLifecycle.Verb).max)) revert AssetUnknownVerb(rawVerb);
        AssetLifecycle.Verb verb = AssetLifecycle.Verb(rawVerb);
        uint256 n = assetIds.length;
        if (n == 0 || n > MAX_BULK) revert AssetBulkInvalidSize(n, MAX_BULK);
        _checkBulkVerb(verb, caller);
        for (uint256 i = 0; i < n; ++i) {
            _applyPublicVerb(verb, assetIds[i], caller, ref, detailsHash);
        }
    }

    /// @inheritdoc IAssetRegistry
    function transitionBatch(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (uint8 rawFrom, uint8 rawTo, bytes32[] memory assetIds, bytes32 detailsHash) =
            abi.decode(params, (uint8, uint8, bytes32[], bytes32));
        if (rawFrom > uint8(type(AssetLifecycle.State).max)) revert AssetUnknownState(rawFrom);
        if (rawTo > uint8(type(AssetLifecycle.State).max)) revert AssetUnknownState(rawTo);
        AssetLifecycle.State to = AssetLifecycle.State(rawTo);
        uint256 n = assetIds.length;
        if (n == 0 || n > MAX_BULK) revert AssetBulkInvalidSize(n, MAX_BULK);
        if (!AssetLifecycle.canTransition(AssetLifecycle.State(rawFrom), to)) {
            revert AssetInvalidTransition(assetIds[0], AssetLifecycle.State(rawFrom), to);
        }
        // the single-state set {from}: each asset must be in `from` (same check as a verb's row)
        uint256 sources = 1 << rawFrom;
        for (uint256 i = 0; i < n; ++i) {
            _applyRule(assetIds[i], sources, to, caller, ref, detailsHash);
        }
    }

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAssetRegistry
    function getAsset(bytes32 assetId) external view returns (AssetView memory v) {
        Asset storage a = _assets[assetId];
        (v.state, v.kind, v.serialHash, v.version, v.historyHead) = (a.state, a.kind, a.serialHash, a.version, a.head);
        (v.custodian, v.exists) = (a.custodian, a.state != AssetLifecycle.State.None);
        (v.customer, v.vendor, v.onLine, v.served) = (a.customer, a.vendor, a.onLine, a.served);
    }

    /// @inheritdoc IAssetRegistry
    function stateOf(bytes32 assetId) external view returns (AssetLifecycle.State) {
        return _assets[assetId].state;
    }

    /// @inheritdoc IAssetRegistry
    function assetOfSerial(bytes32 serialHash) external view returns (bytes32) {
        return _assetOfSerial[serialHash];
    }

    /// @inheritdoc IAssetRegistry
    function canTransition(AssetLifecycle.State from, AssetLifecycle.State to) external pure returns (bool) {
        return AssetLifecycle.canTransition(from, to);
    }

    /// @inheritdoc IAssetRegistry
    function verbRule(AssetLifecycle.Verb verb) external pure returns (uint256 sources, AssetLifecycle.State target) {
        return AssetLifecycle.rule(verb);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev A public verb: the caller's relation to the twin is checked ({_checkParty}), then the
    /// asset's state must be one of the verb's `from` states.
    function _applyVerb(AssetLifecycle.Verb verb, address caller, bytes32 ref, bytes calldata params) private {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        _applyPublicVerb(verb, assetId, caller, ref, detailsHash);
    }

    /// @dev The party check of a public verb ({_checkParty}), then its row of the table.
    function _applyPublicVerb(AssetLifecycle.Verb verb, bytes32 assetId, address caller, bytes32 ref, bytes32 detailsHash)
        private
    {
        _checkParty(verb, _existing(assetId), assetId, caller);
        (uint256 sources, AssetLifecycle.State to) = AssetLifecycle.rule(verb);
        _applyRule(assetId, sources, to, caller, ref, detailsHash);
    }

    /// @dev Flows own the twin: who may use a public verb on `a` (see the table in {IAssetRegistry}).
    /// Reads only the slots the verb needs (the vendor's delivery reads the vendor first).
    function _checkParty(AssetLifecycle.Verb verb, Asset storage a, bytes32 assetId, address caller) private view {
        if (a.onLine) revert AssetHeldByFlow(assetId, a.customer, true);
        if (verb == AssetLifecycle.Verb.Deliver) {
            if (caller != a.vendor && caller != a.custodian) revert AssetNotParty(assetId, caller);
            return;
        }
        if (verb == AssetLifecycle.Verb.Recover) {
            if (caller != a.custodian && caller != a.vendor) revert AssetNotParty(assetId, caller);
            if (a.hasCustomer && a.state != AssetLifecycle.State.Inactive) {
                revert AssetHeldByFlow(assetId, a.customer, false);
            }
            return;
        }
        if (caller != a.custodian) revert AssetNotParty(assetId, caller);
        if (verb == AssetLifecycle.Verb.Decommission) {
            // a twin the agreement still serves (an installation open on it) is not retired under it
            if (a.served) revert AssetHeldByFlow(assetId, a.customer, false);
        } else if (a.hasCustomer) {
            revert AssetHeldByFlow(assetId, a.customer, false);
        }
    }

    /// @dev A serial at registration only where `bindSerial` would need no vote from `caller`.
    function _checkDirectBinding(bytes32 assetId, address caller) private view {
        if (CONSTITUTION.canExecute(_BIND_SERIAL, caller) != IConstitution.DenyReason.None) {
            revert AssetSerialNeedsBinding(assetId);
        }
        IConstitution.ActionPolicy memory policy = CONSTITUTION.action(_BIND_SERIAL);
        if (policy.voters != IConstitution.Voters.Any || policy.module != address(this)) {
            revert AssetSerialNeedsBinding(assetId);
        }
    }

    /// @dev Sets the parties of `a` as one history step. Emits {AssetPartiesChanged}.
    function _setParties(
        Asset storage a,
        bytes32 assetId,
        Parties memory p,
        address caller,
        bytes32 ref,
        bytes32 detailsHash
    ) private {
        (a.customer, a.vendor, a.onLine, a.hasCustomer) = (p.customer, p.vendor, p.onLine, p.customer != address(0));
        a.served = p.served;
        bytes32[4] memory data = [
            bytes32(uint256(uint160(p.customer))),
            bytes32(uint256(uint160(p.vendor))),
            bytes32(uint256(p.onLine ? 1 : 0)),
            bytes32(uint256(p.served ? 1 : 0))
        ];
        (uint32 version, bytes24 head) =
            _record(a, assetId, AssetHistory.ChangeKind.Parties, ref, caller, detailsHash, data);
        emit AssetPartiesChanged(assetId, ref, caller, p.customer, p.vendor, p.onLine, p.served, detailsHash, version, head);
    }

    /// @dev A verb's row (`sources` → `to`) applied to `assetId`: the per-asset work of a
    /// single verb and of each asset of a bulk transition.
    function _applyRule(
        bytes32 assetId,
        uint256 sources,
        AssetLifecycle.State to,
        address caller,
        bytes32 ref,
        bytes32 detailsHash
    ) private {
        Asset storage a = _existing(assetId);
        AssetLifecycle.State from = a.state;
        if (!AssetLifecycle.includes(sources, from)) revert AssetInvalidTransition(assetId, from, to);
        _enter(a, assetId, from, to, caller, ref, detailsHash);
    }

    /// @dev Permissions are not widened by a bulk transition: `caller` must hold `verb`'s own
    /// action right now, and that action must be a direct one (no vote) that runs this
    /// registry's verb entry point. One `canExecute` and one `action` view call per bulk.
    function _checkBulkVerb(AssetLifecycle.Verb verb, address caller) private view {
        string memory name = AssetLifecycle.actionName(verb);
        bytes32 actionId = keccak256(bytes(name));
        IConstitution.DenyReason reason = CONSTITUTION.canExecute(actionId, caller);
        if (reason != IConstitution.DenyReason.None) revert AssetBulkNotPermitted(uint8(verb), caller, reason);
        IConstitution.ActionPolicy memory policy = CONSTITUTION.action(actionId);
        bytes4 entry = bytes4(keccak256(abi.encodePacked(name, "(address,bytes32,bytes)")));
        if (policy.voters != IConstitution.Voters.Any || policy.module != address(this) || policy.selector != entry) {
            revert AssetBulkUnavailable(uint8(verb));
        }
    }

    /// @dev Moves `a` from `from` to `to` (an edge of the table), applying the serial guards.
    /// Emits {AssetTransitioned}.
    function _enter(
        Asset storage a,
        bytes32 assetId,
        AssetLifecycle.State from,
        AssetLifecycle.State to,
        address caller,
        bytes32 ref,
        bytes32 detailsHash
    ) private {
        if (to.requiresSerial() && !a.hasSerial) revert AssetSerialRequired(assetId);
        if (to.releasesSerial() && a.hasSerial) delete _assetOfSerial[a.serialHash];
        a.state = to;
        (uint32 version, bytes24 head) = _record(
            a,
            assetId,
            AssetHistory.ChangeKind.Transition,
            ref,
            caller,
            detailsHash,
            [bytes32(uint256(from)), bytes32(uint256(to)), 0, 0]
        );
        emit AssetTransitioned(assetId, ref, caller, from, to, detailsHash, version, head);
    }

    /// @dev Advances the version and the history head of `a` by one change.
    function _record(
        Asset storage a,
        bytes32 assetId,
        AssetHistory.ChangeKind change,
        bytes32 ref,
        address caller,
        bytes32 detailsHash,
        bytes32[4] memory data
    ) private returns (uint32 version, bytes24 head) {
        version = a.version + 1;
        head = AssetHistory.next(a.head, assetId, change, version, ref, caller, detailsHash, data);
        (a.head, a.version) = (head, version);
    }

    /// @dev Binds `serialHash` to `assetId` after checking it is free.
    function _claimSerial(Asset storage a, bytes32 assetId, bytes32 serialHash) private {
        bytes32 holder = _assetOfSerial[serialHash];
        if (holder != bytes32(0)) revert AssetSerialAlreadyBound(serialHash, holder);
        _assetOfSerial[serialHash] = assetId;
        a.serialHash = serialHash;
    }

    /// @dev The registered asset `assetId`; reverts with {AssetNotFound} otherwise.
    function _existing(bytes32 assetId) private view returns (Asset storage a) {
        a = _assets[assetId];
        if (a.state == AssetLifecycle.State.None) revert AssetNotFound(assetId);
    }

    /// @dev The registered, not decommissioned asset `assetId`.
    function _live(bytes32 assetId) private view returns (Asset storage a) {
        a = _existing(assetId);
        if (a.state.isTerminal()) revert AssetAlreadyDecommissioned(assetId);
    }
}
