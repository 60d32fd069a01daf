// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConstitution} from "./IConstitution.sol";
import {AssetLifecycle} from "../libraries/AssetLifecycle.sol";

/// @title IAssetRegistry
/// @notice The digital twins of the consortium's network assets: lifecycle state, serial
/// binding, custodian and a verifiable history. A module of the Constitution: every change is
/// an action that members send through {IConstitution-executeAction}, each with its own
/// permission (and, if the constitution says so, its own vote). See docs/assets.md.
///
/// Actions (id `keccak256(bytes(name))`, module entry point `name(address,bytes32,bytes)`): the
/// entry points below, each with its `params` and who may send it
/// (its `custom:who` tag); docs/assets.md's actions table is generated from them.
///
/// The verbs follow the transition table of {AssetLifecycle}; `transition` accepts any edge of
/// that table and is meant for other modules (OperatorAgreement, OrderBook) calling it through
/// {IConstitution-executeInternal}. `bulkTransition` applies one verb to up to {MAX_BULK} assets
/// in one module call; its caller must also hold that verb's own permission right now.
///
/// **Flows own the twin.** Each twin records its parties: the custodian (the operator that
/// registered it), the vendor that supplies it and the customer it serves, plus whether an
/// open order line holds it. A twin with a customer, or on an open order line, moves only
/// through the flows that account for it (OperatorAgreement, OrderBook, through the Internal
/// `transition` / `transitionBatch` / `assignParties`). The public verbs are the custodian's
/// (and the vendor's `deliver` / `recover`) on twins no flow holds:
///
/// | verb | who, publicly | refused when |
/// | ---- | ------------- | ------------ |
/// | `deliver` | the twin's vendor or custodian | the twin is on an open order line (deliver the line) |
/// | `recover` | the twin's custodian or vendor | on an open order line; a customer's twin that is not Inactive |
/// | `decommission` | the custodian | on an open order line; served by the agreement |
/// | every other verb | the custodian | the twin has a customer or is on an open order line |
interface IAssetRegistry {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice An asset as returned by {getAsset}.
    /// @param state The lifecycle state (`None` when the asset does not exist).
    /// @param kind The asset kind, a short code (e.g. "ONT", "CPE-ROUTER"), left-aligned.
    /// @param serialHash The hash of the device serial (0 until bound). Kept after the asset
    /// is decommissioned, although the serial is then free for another asset.
    /// @param version The number of changes so far (1 after registration).
    /// @param historyHead The head of the asset's history hash chain (see {AssetHistory}).
    /// @param custodian The member currently responsible for the asset (the operator).
    /// @param exists Whether the asset was registered.
    /// @param customer The customer the twin serves (0: none; set by an order line or an
    /// installation request, cleared when the service ends).
    /// @param vendor The vendor that supplies the device (0: not named yet).
    /// @param onLine Whether an open order line holds the twin (the OrderBook moves it).
    /// @param served Whether the agreement serves `customer` (set by an installation request,
    /// cleared when the service ends): only the agreement's flows release the twin.
    struct AssetView {
        AssetLifecycle.State state;
        bytes12 kind;
        bytes32 serialHash;
        uint32 version;
        bytes24 historyHead;
        address custodian;
        bool exists;
        address customer;
        address vendor;
        bool onLine;
        bool served;
    }

    /// @notice What an {assignParties} call does (a flow's change of the twin's parties).
    /// @dev BindLine: an order line takes the twin (customer and vendor set, `onLine`);
    /// ReleaseLine: the line closed; SetCustomer: an installation for `customer`;
    /// ClearCustomer: the customer's service ended (disconnect or deletion confirmed).
    enum PartyOp {
        BindLine,
        ReleaseLine,
        SetCustomer,
        ClearCustomer
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The zero asset id is reserved ("no asset").
    error AssetInvalidId();
    /// @notice An asset `assetId` was already registered (ids are never reused).
    error AssetAlreadyExists(bytes32 assetId);
    /// @notice No asset `assetId` was registered.
    error AssetNotFound(bytes32 assetId);
    /// @notice The transition table has no edge `from` → `to` for the requested verb.
    error AssetInvalidTransition(bytes32 assetId, AssetLifecycle.State from, AssetLifecycle.State to);
    /// @notice `state` is not a lifecycle state.
    error AssetUnknownState(uint8 state);
    /// @notice `assetId` cannot become Active without a bound serial.
    error AssetSerialRequired(bytes32 assetId);
    /// @notice The zero serial hash is reserved ("no serial").
    error AssetInvalidSerial();
    /// @notice `assetId` already has a serial: it stays bound until the asset is decommissioned.
    error AssetSerialAlreadySet(bytes32 assetId);
    /// @notice `serialHash` is bound to the live asset `assetId`.
    error AssetSerialAlreadyBound(bytes32 serialHash, bytes32 assetId);
    /// @notice `assetId` is decommissioned: nothing about it changes any more.
    error AssetAlreadyDecommissioned(bytes32 assetId);
    /// @notice A link needs a root identifier or an order id (or both).
    error AssetInvalidLink(bytes32 assetId);
    /// @notice `account` is not the custodian of `assetId`: only the custodian hands it over.
    error AssetNotCustodian(bytes32 assetId, address account);
    /// @notice `account` cannot be a custodian: it is not an active member, or already is the
    /// custodian.
    error AssetInvalidCustodian(bytes32 assetId, address account);
    /// @notice `verb` is not a lifecycle verb (0 `scheduleInstallation` … 11 `decommission`).
    error AssetUnknownVerb(uint8 verb);
    /// @notice A bulk transition lists `count` assets: it needs 1 to `max`.
    error AssetBulkInvalidSize(uint256 count, uint256 max);
    /// @notice `caller` may not apply `verb` in bulk: the Constitution would deny it the verb's
    /// own action right now, for `reason` ({IConstitution-canExecute}).
    error AssetBulkNotPermitted(uint8 verb, address caller, IConstitution.DenyReason reason);
    /// @notice `verb` cannot be applied in bulk: its action is put to a vote, or is not (any
    /// more) this registry's verb entry point. Use the single verb.
    error AssetBulkUnavailable(uint8 verb);

    /// @notice `account` is not a party that may move `assetId` with this verb (see the table above).
    error AssetNotParty(bytes32 assetId, address account);

    /// @notice `assetId` is held by a flow (its `customer`, or an open order line when `onLine`):
    /// only that flow moves it.
    error AssetHeldByFlow(bytes32 assetId, address customer, bool onLine);

    /// @notice `assetId` already has party `current` where `proposed` was asked for (or is on
    /// another open order line).
    error AssetPartyConflict(bytes32 assetId, address current, address proposed);

    /// @notice A serial given at registration would bypass the `bindSerial` vote or permission:
    /// register without a serial and bind it with `bindSerial`.
    error AssetSerialNeedsBinding(bytes32 assetId);

    /// @notice `op` is not a {PartyOp}.
    error AssetUnknownPartyOp(uint8 op);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/
    // One event per change; each carries every input of its history step (see AssetHistory)
    // and the resulting `version` and `head`.

    /// @notice `actor` registered `assetId` (state Planned, version 1, custodian `actor`),
    /// optionally with a serial and linked to a root identifier and an order (0 = none).
    event AssetRegistered(
        bytes32 indexed assetId,
        bytes32 indexed ref,
        address indexed actor,
        bytes12 kind,
        bytes32 serialHash,
        bytes32 rootId,
        bytes32 orderId,
        bytes32 detailsHash,
        uint32 version,
        bytes24 head
    );

    /// @notice `assetId` moved from `from` to `to` at `actor`'s request.
    event AssetTransitioned(
        bytes32 indexed assetId,
        bytes32 indexed ref,
        address indexed actor,
        AssetLifecycle.State from,
        AssetLifecycle.State to,
        bytes32 detailsHash,
        uint32 version,
        bytes24 head
    );

    /// @notice The serial `serialHash` was bound to `assetId` (`actor`: the requester, or the
    /// proposer of the vote that approved it).
    event AssetSerialBound(
        bytes32 indexed assetId,
        bytes32 indexed ref,
        address indexed actor,
        bytes32 serialHash,
        bytes32 detailsHash,
        uint32 version,
        bytes24 head
    );

    /// @notice `assetId` was linked to the root identifier `rootId` and/or the order `orderId`.
    event AssetLinked(
        bytes32 indexed assetId,
        bytes32 indexed ref,
        address indexed actor,
        bytes32 rootId,
        bytes32 orderId,
        bytes32 detailsHash,
        uint32 version,
        bytes24 head
    );

    /// @notice Custody of `assetId` passed from `from` to `to`.
    event AssetCustodyTransferred(
        bytes32 indexed assetId,
        bytes32 indexed ref,
        address indexed actor,
        address from,
        address to,
        bytes32 detailsHash,
        uint32 version,
        bytes24 head
    );

    /// @notice The parties of `assetId` changed (see {AssetView}).
    /// @param actor The member whose action changed them (through a flow for Internal changes).
    event AssetPartiesChanged(
        bytes32 indexed assetId,
        bytes32 indexed ref,
        address indexed actor,
        address customer,
        address vendor,
        bool onLine,
        bool served,
        bytes32 detailsHash,
        uint32 version,
        bytes24 head
    );

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/
    // Entry points of the actions. Each is `f(address caller, bytes32 ref, bytes params)`,
    // callable only by the Constitution (else ModuleUnauthorizedCaller): `caller` is the member
    // who sent the action (or the proposer of the approved proposal), `ref` its correlation id.

    /// @notice Registers a new asset in state Planned, with `caller` as its custodian.
    /// @param params `abi.encode(bytes32 assetId, bytes12 kind, bytes32 serialHash, bytes32 rootId,
    /// bytes32 orderId, bytes32 detailsHash)`; `serialHash`, `rootId`, `orderId` may be 0.
    /// @dev Requirements: `assetId` is not 0 and not registered; a non-zero `serialHash` is
    /// not bound to a live asset (it is bound to this one), and only when the constitution lets
    /// `caller` run `bindSerial` right now without a vote ({AssetSerialNeedsBinding}): a serial
    /// never reaches a twin around the agreed binding. Emits {AssetRegistered}.
    /// @custom:who Any granted member; it becomes the twin's custodian.
    function register(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Binds a device serial (its hash) to an asset that has none.
    /// @param params `abi.encode(bytes32 assetId, bytes32 serialHash, bytes32 detailsHash)`.
    /// @dev Requirements: the asset exists and is not decommissioned; it has no serial yet
    /// ({AssetSerialAlreadySet}); `serialHash` is not 0 and not bound to a live asset
    /// ({AssetSerialAlreadyBound}). Emits {AssetSerialBound}.
    /// @custom:who Any granted member (a vote in the example consortium).
    function bindSerial(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Records that an asset belongs to a root identifier (project) and/or an order.
    /// An asset links to many over its life; links live in events only.
    /// @param params `abi.encode(bytes32 assetId, bytes32 rootId, bytes32 orderId, bytes32 detailsHash)`.
    /// @dev Requirements: the asset exists and is not decommissioned; `rootId` or `orderId` is
    /// not 0. Emits {AssetLinked}.
    /// @custom:who No party check: any granted member may link a live twin.
    function link(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The custodian hands the asset over to another active member.
    /// @param params `abi.encode(bytes32 assetId, address custodian, bytes32 detailsHash)`.
    /// @dev Requirements: the asset exists and is not decommissioned; `caller` is its custodian;
    /// the new custodian is another, active member. Emits {AssetCustodyTransferred}.
    /// @custom:who Only the custodian, to another active member.
    function transferCustody(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Names the customer and the vendor of a twin no flow holds (the custodian plans it).
    /// @dev Requirements: `caller` is the custodian ({AssetNotCustodian}); the twin is Planned or
    /// Inactive, not on an open order line and not served by the agreement ({AssetHeldByFlow}).
    /// Emits {AssetPartiesChanged}.
    /// @param caller The member sending the action.
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 assetId, address customer, address vendor, bytes32 detailsHash)`.
    /// @custom:who Only the custodian, on a free twin.
    function setParties(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Internal: a flow (OrderBook, OperatorAgreement) changes a twin's parties ({PartyOp}).
    /// @dev Requirements: BindLine: not on another open line, customer 0 or the same
    /// ({AssetPartyConflict}); SetCustomer: customer 0 or the same. Emits {AssetPartiesChanged}.
    /// @param caller The member whose action runs the flow.
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 assetId, uint8 op, address customer, address vendor, bytes32 detailsHash)`:
    /// `op` a {PartyOp}; SetCustomer also marks the twin served (only the agreement's
    /// ClearCustomer releases it).
    /// @custom:who The flows (OrderBook, OperatorAgreement).
    function assignParties(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: Planned | Inactive → PendingInstallation.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @dev Requirements (every verb): the asset exists; its state is a `from` state of the verb
    /// ({AssetInvalidTransition}). Emits {AssetTransitioned}.
    /// @custom:who The custodian.
    function scheduleInstallation(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: PendingInstallation → Planned.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The custodian.
    function cancelInstallation(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: PendingInstallation → Delivered.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The twin's vendor or its custodian.
    function deliver(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: Delivered → Active. Requires a bound serial ({AssetSerialRequired}).
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The custodian.
    function commission(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: Active → PendingChange.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The custodian, on a twin with no customer (a customer's change is the agreement's `orderChange`).
    function requestChange(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: PendingChange → Active.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The custodian.
    function completeChange(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: PendingChange → Inactive (a MACD delete).
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The custodian.
    function completeDeletion(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: Active → PendingDisconnect.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The custodian, on a twin with no customer (a customer's disconnect is the agreement's `orderDisconnect`).
    function requestDisconnect(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: PendingDisconnect → Active.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The custodian.
    function withdrawDisconnect(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: PendingDisconnect → Inactive.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The custodian.
    function completeDisconnect(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: Delivered | Inactive → Recovering.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The custodian or the vendor.
    function recover(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Verb: Planned | Recovering → Decommissioned. Releases the serial.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The custodian.
    function decommission(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Internal action: any edge of the transition table, for other modules.
    /// @param params `abi.encode(bytes32 assetId, uint8 to, bytes32 detailsHash)`.
    /// @dev Requirements: as a verb, with the edge `state → to` looked up in the whole table;
    /// `to` is a state ({AssetUnknownState}). Register it with scope Internal.
    /// Emits {AssetTransitioned}.
    /// @custom:who Modules only.
    function transition(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Applies one verb to many assets, in list order, as that many single verbs with
    /// this call's `caller` and `ref` would (same table, same serial guards, one
    /// {AssetTransitioned} and one history step per asset); all or nothing.
    /// @param params `abi.encode(uint8 verb, bytes32[] assetIds, bytes32 detailsHash)`: the verb
    /// as in {AssetLifecycle-Verb}, 1 to {MAX_BULK} asset ids, one details hash for every step.
    /// @dev Requirements: besides this action's own permission, `caller` holds the verb's
    /// action right now (`canExecute(keccak256(bytes(verbName)), caller)` is `None`, else
    /// {AssetBulkNotPermitted}); that action is a direct one (`Voters.Any`) pointing at this
    /// registry's verb entry point (else {AssetBulkUnavailable}); `verb` is a verb
    /// ({AssetUnknownVerb}); the list size ({AssetBulkInvalidSize}); every asset passes the
    /// single verb's checks ({AssetNotFound}, {AssetInvalidTransition}, {AssetSerialRequired}).
    /// Emits {AssetTransitioned} per asset.
    /// @custom:who Any granted member that also holds the verb's own grant, checked at each call.
    function bulkTransition(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Internal action: one edge `from` → `to` of the transition table applied to many
    /// assets that are all in `from`, in list order, as that many {transition} calls would (one
    /// {AssetTransitioned} and one history step per asset); all or nothing. For modules moving
    /// assets in bulk (OperatorAgreement's batched MACD orders).
    /// @param params `abi.encode(uint8 from, uint8 to, bytes32[] assetIds, bytes32 detailsHash)`:
    /// 1 to {MAX_BULK} asset ids, one details hash for every step.
    /// @dev Requirements: `from` and `to` are states ({AssetUnknownState}); the list size
    /// ({AssetBulkInvalidSize}); the table has the edge (else {AssetInvalidTransition} naming the
    /// first asset); every asset exists ({AssetNotFound}) and is in `from`
    /// ({AssetInvalidTransition}); the serial guards. Register it with scope Internal.
    /// Emits {AssetTransitioned} per asset.
    /// @custom:who Modules only (OperatorAgreement's batched MACD orders).
    function transitionBatch(address caller, bytes32 ref, bytes calldata params) external;

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @notice The asset `assetId` (all zero with `exists` false if it was never registered).
    function getAsset(bytes32 assetId) external view returns (AssetView memory);

    /// @notice The lifecycle state of `assetId` (`None` if it was never registered).
    function stateOf(bytes32 assetId) external view returns (AssetLifecycle.State);

    /// @notice The live asset bound to `serialHash`, or 0 (never bound, or freed by a decommission).
    function assetOfSerial(bytes32 serialHash) external view returns (bytes32 assetId);

    /// @notice The maximum number of assets of one {bulkTransition} (256).
    function MAX_BULK() external view returns (uint256);

    /// @notice Whether the transition table has an edge `from` → `to`.
    function canTransition(AssetLifecycle.State from, AssetLifecycle.State to) external pure returns (bool);

    /// @notice The transition table's row for `verb`: the states it starts from (bit `i` set
    /// for `State(i)`) and the state it leads to.
    function verbRule(AssetLifecycle.Verb verb) external pure returns (uint256 sources, AssetLifecycle.State target);
}
