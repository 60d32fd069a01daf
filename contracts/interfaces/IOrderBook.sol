// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {OrderLifecycle} from "../libraries/OrderLifecycle.sol";

/// @title IOrderBook
/// @notice Customer orders (seed 001 "typical anatomy of a customer order"): project (root
/// identifier, customer) → CRM orders → versioned service items → device lines, the change
/// handling of a revision per device line (Pause / AutoCorrect), cancellation at any stage,
/// and a stock ledger per vendor and SKU. A module of the Constitution; see docs/orders.md.
///
/// Actions (id `keccak256(bytes(name))`, entry point `name(address,bytes32,bytes)`): the entry
/// points below, each with its `params` and who may send it (its `custom:who` tag);
/// docs/orders.md's actions table is generated from them.
///
/// Array params hold at most {MAX_CHANGES} entries each: no transaction loops over anything
/// else.
interface IOrderBook {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A device line as given by the client.
    /// @param lineId Chosen by the client; never 0, never reused.
    /// @param serviceId The service item (of the same order) the device serves.
    /// @param assetId The AssetRegistry twin of a managed device (0 for unmanaged parts and
    /// accessories). When set, the OrderBook moves the twin: ordered → PendingInstallation,
    /// first delivery → Delivered, released undelivered → Planned, removed after delivery →
    /// Recovering.
    /// @param vendor The supplier (a member); its events are indexed by it.
    /// @param sku The stock keeping unit, ASCII left-aligned.
    /// @param quantity Units ordered (> 0).
    /// @param policy `ChangePolicy` (uint8) applied when a revision touches the line.
    struct LineSpec {
        bytes32 lineId;
        bytes32 serviceId;
        bytes32 assetId;
        address vendor;
        bytes16 sku;
        uint32 quantity;
        uint8 policy;
    }

    /// @notice A service item change of a revision: `Add` (new item at `version`), `Modify`
    /// (new, higher `version`: A → A'), `Delete` (the item is cancelled; it must have no open
    /// line left), `NoChange` (recorded only).
    struct ServiceChange {
        bytes32 serviceId;
        uint8 action;
        uint32 version;
    }

    /// @notice A device line change of a revision: `Add` (a new line from `line`), `Delete`
    /// (the line `line.lineId` leaves the order: released, or sent to recovery), `NoChange`
    /// (the line stays; `line.policy` decides whether it is held). Only `line.lineId` and
    /// `line.policy` are read for `Delete` and `NoChange`. `Modify` is refused.
    struct LineChange {
        uint8 action;
        LineSpec line;
    }

    /// @notice An order as returned by {getOrder}.
    struct OrderView {
        bytes32 projectId;
        OrderLifecycle.State state;
        uint32 revision;
        uint32 lineCount;
        uint32 openLines;
        uint32 heldLines;
        uint32 serviceCount;
        uint32 openServices;
    }

    /// @notice A service item as returned by {getService}.
    struct ServiceView {
        OrderLifecycle.State state;
        OrderLifecycle.ItemAction action;
        uint32 version;
        uint32 openLines;
    }

    /// @notice A device line as returned by {getLine}, with its stock figures.
    struct LineView {
        bytes32 lineId;
        bytes32 orderId;
        bytes32 serviceId;
        bytes32 assetId;
        address vendor;
        bytes16 sku;
        uint32 quantity;
        OrderLifecycle.ChangePolicy policy;
        OrderLifecycle.State state;
        uint32 reserved;
        uint32 released;
        uint32 delivered;
        uint32 consumed;
        uint32 returned;
    }

    /// @notice Stock figures (cumulative). Open reservation = reserved − released − delivered;
    /// still out = delivered − consumed − returned.
    struct StockView {
        uint256 reserved;
        uint256 released;
        uint256 delivered;
        uint256 consumed;
        uint256 returned;
        uint256 openReservation;
        uint256 stillOut;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice A zero id (project, order, service or line) was given.
    error OrderInvalidId();
    /// @notice The project already exists.
    error OrderProjectExists(bytes32 projectId);
    /// @notice No such project.
    error OrderProjectNotFound(bytes32 projectId);
    /// @notice The customer of a project must be non-zero.
    error OrderInvalidCustomer();
    /// @notice The order already exists.
    error OrderExists(bytes32 orderId);
    /// @notice No such order.
    error OrderNotFound(bytes32 orderId);
    /// @notice `from → to` is not an edge of the table (for the order, service item or line `id`).
    error OrderInvalidTransition(bytes32 id, OrderLifecycle.State from, OrderLifecycle.State to);
    /// @notice The order no longer accepts changes (terminal or being cancelled).
    error OrderNotOpen(bytes32 orderId, OrderLifecycle.State state);
    /// @notice An unknown state code.
    error OrderUnknownState(uint8 state);
    /// @notice An unknown or refused item action code.
    error OrderInvalidAction(uint8 action);
    /// @notice An unknown change policy code.
    error OrderUnknownPolicy(uint8 policy);
    /// @notice An array param is empty where it may not be, or longer than the cap.
    error OrderTooManyChanges(uint256 count, uint256 max);
    /// @notice The service item already exists in the order.
    error OrderServiceExists(bytes32 orderId, bytes32 serviceId);
    /// @notice No such service item in the order.
    error OrderServiceNotFound(bytes32 orderId, bytes32 serviceId);
    /// @notice The service item is cancelled.
    error OrderServiceClosed(bytes32 orderId, bytes32 serviceId);
    /// @notice A modification must raise the version.
    error OrderInvalidVersion(bytes32 serviceId, uint32 current, uint32 given);
    /// @notice A service item cannot be deleted or cancelled while device lines are open on it.
    error OrderServiceHasOpenLines(bytes32 orderId, bytes32 serviceId, uint32 openLines);
    /// @notice An order completes only once every device line and service item is closed.
    error OrderHasOpenItems(bytes32 orderId, uint32 openLines, uint32 openServices);
    /// @notice The line already exists.
    error OrderLineExists(bytes32 lineId);
    /// @notice No such line.
    error OrderLineNotFound(bytes32 lineId);
    /// @notice The line belongs to another order.
    error OrderLineNotInOrder(bytes32 orderId, bytes32 lineId);
    /// @notice A line needs a vendor and a quantity.
    error OrderInvalidLine(bytes32 lineId);
    /// @notice Order `orderId` already has lines of `max` distinct vendors.
    error OrderTooManyVendors(bytes32 orderId, uint256 max);
    /// @notice The line is in a state that does not allow the operation.
    error OrderLineInvalidState(bytes32 lineId, OrderLifecycle.State state);
    /// @notice Only the line's vendor may deliver or take back its units.
    error OrderNotLineVendor(bytes32 lineId, address caller);
    /// @notice More units delivered than reserved for the line.
    error OrderOverDelivery(bytes32 lineId, uint32 requested, uint32 available);
    /// @notice The stock named (vendor, SKU) was not reserved for this line.
    error StockWrongLine(bytes32 lineId, address vendor, bytes16 sku);
    /// @notice More units consumed than delivered to the line and not yet consumed or returned.
    error StockOverConsumption(bytes32 lineId, uint32 requested, uint32 available);
    /// @notice More units returned than are still out on the line.
    error StockOverReturn(bytes32 lineId, uint32 requested, uint32 available);
    /// @notice A zero quantity.
    error StockInvalidQuantity();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A project (root identifier) was created for `customer`.
    event ProjectCreated(
        bytes32 indexed projectId, address indexed customer, bytes32 indexed ref, address actor, bytes32 detailsHash
    );
    /// @notice A CRM order was created under a project, in `Acknowledged`.
    event OrderCreated(
        bytes32 indexed orderId, bytes32 indexed projectId, bytes32 indexed ref, address actor, bytes32 detailsHash
    );
    /// @notice The order moved `from → to`. Names the order's `customer` (a topic: its
    /// notification stream receives it); each vendor of the order's lines gets {OrderPartyNotified}.
    event OrderStateChanged(
        bytes32 indexed orderId,
        address indexed customer,
        bytes32 indexed ref,
        OrderLifecycle.State from,
        OrderLifecycle.State to
    );
    /// @notice A revision was applied (`revision` counts from 1); names the order's customer.
    event OrderRevised(
        bytes32 indexed orderId,
        address indexed customer,
        bytes32 indexed ref,
        address actor,
        uint32 revision,
        bytes32 detailsHash
    );
    /// @notice A service item was added, modified, deleted or confirmed (`action`); `state` its
    /// state after; names the order's customer.
    event ServiceItemChanged(
        bytes32 indexed orderId,
        address indexed customer,
        bytes32 indexed ref,
        bytes32 serviceId,
        OrderLifecycle.ItemAction action,
        uint32 version,
        OrderLifecycle.State state
    );
    /// @notice A service item moved `from → to`; names the order's customer.
    event ServiceStateChanged(
        bytes32 indexed orderId,
        address indexed customer,
        bytes32 indexed ref,
        bytes32 serviceId,
        OrderLifecycle.State from,
        OrderLifecycle.State to
    );
    /// @notice The status of an order `party` supplies changed: one per distinct vendor of the
    /// order's lines (at most {MAX_ORDER_VENDORS}), next to {OrderStateChanged} (`what` 0, `serviceId`
    /// 0), {ServiceStateChanged} (1) and {OrderRevised} (2, `state` the order's state), so the
    /// vendor's own notification stream (a topic) receives it.
    event OrderPartyNotified(
        address indexed party,
        bytes32 indexed orderId,
        bytes32 indexed ref,
        uint8 what,
        bytes32 serviceId,
        OrderLifecycle.State state
    );
    /// @notice A device line was recorded; `reserved` units were ordered from `vendor` (0 when
    /// the line was added paused: it is ordered on {resumeLines}).
    event LineAdded(
        address indexed vendor,
        bytes32 indexed orderId,
        bytes32 indexed lineId,
        bytes32 ref,
        bytes32 serviceId,
        bytes32 assetId,
        bytes16 sku,
        uint32 quantity,
        uint32 reserved,
        OrderLifecycle.ChangePolicy policy,
        OrderLifecycle.State state
    );
    /// @notice Pause: the supplier is told at once that the order is being re-planned; the
    /// line is held (`revision` is the order's revision).
    event LineReplanning(
        address indexed vendor, bytes32 indexed orderId, bytes32 indexed lineId, bytes32 ref, uint32 revision
    );
    /// @notice A held line resumed; `reserved` units were ordered now (a paused new line).
    event LineResumed(
        address indexed vendor,
        bytes32 indexed orderId,
        bytes32 indexed lineId,
        bytes32 ref,
        OrderLifecycle.State state,
        uint32 reserved
    );
    /// @notice The line left the order (revision or cancellation): `released` undelivered
    /// units went back to the vendor's stock; `stillOut` delivered units must come back;
    /// `recovering` when its asset was sent to recovery.
    event LineRemoved(
        address indexed vendor,
        bytes32 indexed orderId,
        bytes32 indexed lineId,
        bytes32 ref,
        OrderLifecycle.State from,
        uint32 released,
        uint32 stillOut,
        bool recovering
    );
    /// @notice The line served its purpose in full (every unit consumed): it is completed and no
    /// longer open; its twin, if any, is released from the line (the agreement takes it on).
    event LineCompleted(
        address indexed vendor, bytes32 indexed orderId, bytes32 indexed lineId, bytes32 ref, uint32 consumed
    );
    /// @notice The vendor delivered `quantity` units (`delivered` in total).
    event LineDelivered(
        address indexed vendor,
        bytes32 indexed orderId,
        bytes32 indexed lineId,
        bytes32 ref,
        uint32 quantity,
        uint32 delivered,
        bytes32 detailsHash
    );
    /// @notice `quantity` delivered units were used for the line (`consumed` in total).
    event StockConsumed(
        address indexed vendor,
        bytes32 indexed orderId,
        bytes32 indexed lineId,
        bytes32 ref,
        bytes16 sku,
        uint32 quantity,
        uint32 consumed,
        bytes32 detailsHash
    );
    /// @notice The vendor took back `quantity` units of the line (`returned` in total).
    event StockReturned(
        address indexed vendor,
        bytes32 indexed orderId,
        bytes32 indexed lineId,
        bytes32 ref,
        bytes16 sku,
        uint32 quantity,
        uint32 returned,
        bytes32 detailsHash
    );

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Creates a project. Emits {ProjectCreated}.
    /// @param params `abi.encode(bytes32 projectId, address customer, bytes32 detailsHash)`.
    /// @custom:who Any granted member.
    function createProject(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Creates an order in `acknowledged`. Emits {OrderCreated}.
    /// @param params `abi.encode(bytes32 orderId, bytes32 projectId, bytes32 detailsHash)`.
    /// @custom:who Any granted member.
    function createOrder(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Creates the order a registered customer consented to (its operator submits it;
    /// the order's actor is the customer). Emits {OrderCreated}.
    /// @param params `abi.encode(bytes32 orderId, bytes32 projectId, bytes32 detailsHash, uint256 nonce, uint64 deadline, bytes signature)`.
    /// @custom:who The project customer's operator, with the customer's `createOrder` consent (subject: the order id, verified by the CustomerRegistry).
    function createOrderFor(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Adds a service item (action `Add`). Emits {ServiceItemChanged}.
    /// @param params `abi.encode(bytes32 orderId, bytes32 serviceId, uint32 version, bytes32 detailsHash)`.
    /// @custom:who Any granted member.
    function addService(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Adds a device line and orders it (reservation). Emits {LineAdded}.
    /// @param params `abi.encode(bytes32 orderId, LineSpec line, bytes32 detailsHash)`.
    /// @custom:who Any granted member.
    function addDeviceLine(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Applies a revision in one action (docs/orders.md, "A revision in one action"). Emits
    /// {OrderRevised} and per item/line events.
    /// @param params `abi.encode(bytes32 orderId, ServiceChange[] services, LineChange[] lines, bytes32 detailsHash)`.
    /// @custom:who Any granted member.
    function reviseOrder(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Resumes held lines: held → `inProgress`, ordering paused new ones. Emits {LineResumed}.
    /// @param params `abi.encode(bytes32 orderId, bytes32[] lineIds, bytes32 detailsHash)`.
    /// @custom:who Any granted member.
    function resumeLines(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Cancels an order, possibly over several calls. Emits {LineRemoved}, {OrderStateChanged}.
    /// @param params `abi.encode(bytes32 orderId, bytes32[] lineIds, bytes32[] serviceIds, bytes32 detailsHash)`.
    /// @custom:who Any granted member.
    function cancelOrder(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Moves an order along the table. Emits {OrderStateChanged}.
    /// @param params `abi.encode(bytes32 orderId, uint8 to, bytes32 detailsHash)`.
    /// @custom:who Any granted member.
    function transitionOrder(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Moves a service item along the table. Emits {ServiceStateChanged}.
    /// @param params `abi.encode(bytes32 orderId, bytes32 serviceId, uint8 to, bytes32 detailsHash)`.
    /// @custom:who Any granted member.
    function transitionService(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice The vendor delivers units of a line. Emits {LineDelivered}.
    /// @param params `abi.encode(bytes32 lineId, uint32 quantity, bytes32 detailsHash)`.
    /// @custom:who The line's vendor only; the line `acknowledged` or `inProgress` (not held), the order open (not being cancelled).
    function deliverLine(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Consumes delivered units against the line they were reserved for. Emits {StockConsumed}.
    /// @param params `abi.encode(bytes32 lineId, address vendor, bytes16 sku, uint32 quantity, bytes32 detailsHash)`.
    /// @custom:who Any granted member.
    function consumeStock(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice The vendor takes back units still out on a line. Emits {StockReturned}.
    /// @param params `abi.encode(bytes32 lineId, uint32 quantity, bytes32 detailsHash)`.
    /// @custom:who The line's vendor only.
    function returnStock(address caller, bytes32 ref, bytes calldata params) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The customer of a project (zero if none) and its number of orders.
    function getProject(bytes32 projectId) external view returns (address customer, uint32 orderCount);
    /// @notice An order (state `None` if unknown).
    function getOrder(bytes32 orderId) external view returns (OrderView memory);
    /// @notice A service item of an order (state `None` if unknown).
    function getService(bytes32 orderId, bytes32 serviceId) external view returns (ServiceView memory);
    /// @notice A device line (state `None` if unknown).
    function getLine(bytes32 lineId) external view returns (LineView memory);
    /// @notice The stock figures of a vendor for a SKU.
    function stockOf(address vendor, bytes16 sku) external view returns (StockView memory);
    /// @notice Reconciliation of an order: a page of its lines (in creation order) and their totals.
    function reconcileOrder(bytes32 orderId, uint256 offset, uint256 limit)
        external
        view
        returns (LineView[] memory lines, StockView memory totals);
    /// @notice Reconciliation of a vendor: a page of its lines (all orders) and their totals.
    function reconcileVendor(address vendor, uint256 offset, uint256 limit)
        external
        view
        returns (LineView[] memory lines, StockView memory totals);
    /// @notice A page of a project's order ids, in creation order (`getProject` gives the count).
    function projectOrders(bytes32 projectId, uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory orderIds);
    /// @notice A page of an order's service items (ids and views), in the order they were added,
    /// deleted ones included (`getOrder(..).serviceCount` gives the count).
    function orderServices(bytes32 orderId, uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory serviceIds, ServiceView[] memory services);
    /// @notice The number of lines ever supplied by `vendor`.
    function vendorLineCount(address vendor) external view returns (uint256);
    /// @notice Whether `from → to` is an edge of the table.
    function canTransition(OrderLifecycle.State from, OrderLifecycle.State to) external pure returns (bool);
}
