// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConstitution} from "./interfaces/IConstitution.sol";
import {ICustomerRegistry} from "./interfaces/ICustomerRegistry.sol";
import {IOrderBook} from "./interfaces/IOrderBook.sol";
import {OrderLifecycle} from "./libraries/OrderLifecycle.sol";
import {ConstitutionModule} from "./modules/ConstitutionModule.sol";

/// @title OrderBook
/// @notice Customer orders (seed 001): project → CRM orders → versioned service items → device
/// lines, revisions with a per-line change policy (Pause / AutoCorrect), cancellation at any
/// stage, and the stock ledger per vendor and SKU. A Constitution module: see {IOrderBook} and
/// docs/orders.md.
/// @dev Design notes:
/// - One transition table ({OrderLifecycle-targets}) for orders, service items and lines.
/// - Asset twins move through the AssetRegistry's Internal action `transition`.
/// - Transactions loop only over their calldata arrays (at most {MAX_CHANGES} entries each);
///   per-order counters (open lines, held lines, open services) replace loops over storage.
/// - The per-order and per-vendor line indexes exist for the paged reconciliation views only.
contract OrderBook is IOrderBook, ConstitutionModule {
    using OrderLifecycle for OrderLifecycle.State;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev A project: one slot.
    struct Project {
        address customer;
        uint32 orderCount;
    }

    /// @dev An order: the project id, then state and counters in one slot.
    struct Order {
        bytes32 projectId;
        OrderLifecycle.State state;
        uint32 revision;
        uint32 lineCount;
        uint32 openLines;
        uint32 heldLines;
        uint32 serviceCount;
        uint32 openServices;
        uint8 vendorCount;
    }

    /// @dev A service item: one slot.
    struct Service {
        OrderLifecycle.State state;
        OrderLifecycle.ItemAction action;
        uint32 version;
        uint32 openLines;
    }

    /// @dev A device line: five slots (ids; vendor + quantity + policy + state + delivered;
    /// sku + the other stock counters).
    struct Line {
        bytes32 orderId;
        bytes32 serviceId;
        bytes32 assetId;
        address vendor;
        uint32 quantity;
        OrderLifecycle.ChangePolicy policy;
        OrderLifecycle.State state;
        uint32 delivered;
        bytes16 sku;
        uint32 reserved;
        uint32 released;
        uint32 consumed;
        uint32 returned;
    }

    /// @dev Cumulative stock figures of a vendor for a SKU: one slot.
    struct Stock {
        uint48 reserved;
        uint48 released;
        uint48 delivered;
        uint48 consumed;
        uint48 returned;
    }

    /// @notice The maximum length of each array param (services, lines, ids) of one action.
    uint256 public constant MAX_CHANGES = 64;
    /// @notice The most distinct vendors one order's lines may have (each is notified of the
    /// order's status changes: a bounded loop).
    uint256 public constant MAX_ORDER_VENDORS = 16;

    /// @dev The AssetRegistry's Internal action moving a twin along its table.
    bytes32 private constant _TRANSITION = keccak256("transition");
    /// @dev AssetLifecycle states used here (see docs/assets.md).
    bytes32 private constant _ASSIGN_PARTIES = keccak256("assignParties");
    bytes32 private constant _USE_CONSENT = keccak256("useConsent");
    bytes32 private constant _CREATE_ORDER = keccak256("createOrder");
    /// @dev IAssetRegistry.PartyOp values.
    uint8 private constant _BIND_LINE = 0;
    uint8 private constant _RELEASE_LINE = 1;
    uint8 private constant _ASSET_PLANNED = 1;
    uint8 private constant _ASSET_PENDING_INSTALLATION = 2;
    uint8 private constant _ASSET_DELIVERED = 3;
    uint8 private constant _ASSET_RECOVERING = 8;

    mapping(bytes32 projectId => Project) private _projects;
    mapping(bytes32 orderId => Order) private _orders;
    mapping(bytes32 orderId => mapping(bytes32 serviceId => Service)) private _services;
    mapping(bytes32 lineId => Line) private _lines;
    mapping(address vendor => mapping(bytes16 sku => Stock)) private _stock;
    mapping(bytes32 orderId => mapping(uint256 index => bytes32 lineId)) private _orderLines;
    mapping(address vendor => mapping(uint256 index => bytes32 lineId)) private _vendorLines;
    mapping(address vendor => uint256) private _vendorLineCount;
    mapping(bytes32 projectId => mapping(uint256 index => bytes32 orderId)) private _projectOrders;
    mapping(bytes32 orderId => mapping(uint256 index => bytes32 serviceId)) private _orderServices;
    mapping(bytes32 orderId => mapping(uint256 index => address vendor)) private _orderVendors;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param constitution The Constitution whose actions this module implements.
    constructor(IConstitution constitution) ConstitutionModule(constitution) {}

    /*//////////////////////////////////////////////////////////////
                           ACTIONS: STRUCTURE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOrderBook
    function createProject(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 projectId, address customer, bytes32 detailsHash) = abi.decode(params, (bytes32, address, bytes32));
        if (projectId == bytes32(0)) revert OrderInvalidId();
        if (customer == address(0)) revert OrderInvalidCustomer();
        Project storage p = _projects[projectId];
        if (p.customer != address(0)) revert OrderProjectExists(projectId);
        p.customer = customer;
        emit ProjectCreated(projectId, customer, ref, caller, detailsHash);
    }

    /// @inheritdoc IOrderBook
    function createOrder(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 orderId, bytes32 projectId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32, bytes32));
        _createOrder(caller, ref, orderId, _project(projectId), projectId, detailsHash);
    }

    /// @inheritdoc IOrderBook
    /// @dev Requirements: as {createOrder}; the CustomerRegistry's `useConsent` (Internal): the
    /// caller is the project customer's operator and the customer signed a consent to
    /// `createOrder` of exactly this order id (nonce unused, before its deadline). The order's
    /// actor is the customer. Emits {OrderCreated}.
    function createOrderFor(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 orderId, bytes32 projectId, bytes32 detailsHash, uint256 nonce, uint64 deadline, bytes memory sig) =
            abi.decode(params, (bytes32, bytes32, bytes32, uint256, uint64, bytes));
        Project storage p = _project(projectId);
        address customer = p.customer;
        ICustomerRegistry.Consent memory consent =
            ICustomerRegistry.Consent(customer, caller, _CREATE_ORDER, orderId, 0, 0, nonce, deadline);
        _executeInternal(_USE_CONSENT, ref, abi.encode(consent, sig));
        _createOrder(customer, ref, orderId, p, projectId, detailsHash);
    }

    /// @inheritdoc IOrderBook
    function addService(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 orderId, bytes32 serviceId, uint32 version,) =
            abi.decode(params, (bytes32, bytes32, uint32, bytes32));
        Order storage o = _openOrder(orderId);
        _addService(o, orderId, serviceId, version, ref);
    }

    /// @inheritdoc IOrderBook
    function addDeviceLine(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 orderId, LineSpec memory spec, bytes32 detailsHash) =
            abi.decode(params, (bytes32, LineSpec, bytes32));
        Order storage o = _openOrder(orderId);
        _addLine(o, orderId, spec, false, ref, detailsHash);
    }

    /*//////////////////////////////////////////////////////////////
                       ACTIONS: CHANGE HANDLING
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOrderBook
    /// @dev Order of work: service additions, modifications and confirmations; then the
    /// device lines; then the service deletions (their lines must be gone by then).
    function reviseOrder(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 orderId, ServiceChange[] memory services, LineChange[] memory lines, bytes32 detailsHash) =
            abi.decode(params, (bytes32, ServiceChange[], LineChange[], bytes32));
        _checkSize(services.length);
        _checkSize(lines.length);
        Order storage o = _openOrder(orderId);
        uint32 revision = ++o.revision;
        emit OrderRevised(orderId, _customerOf(o), ref, caller, revision, detailsHash);
        _notifyVendors(o, orderId, ref, 2, bytes32(0), o.state);
        _reviseServices(o, orderId, services, ref);
        _reviseLines(o, orderId, lines, ref, detailsHash);
        for (uint256 i = 0; i < services.length; ++i) {
            if (services[i].action == uint8(OrderLifecycle.ItemAction.Delete)) {
                _cancelService(o, orderId, services[i].serviceId, OrderLifecycle.ItemAction.Delete, ref);
            }
        }
    }

    /// @inheritdoc IOrderBook
    function resumeLines(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 orderId, bytes32[] memory lineIds, bytes32 detailsHash) =
            abi.decode(params, (bytes32, bytes32[], bytes32));
        _checkSize(lineIds.length);
        Order storage o = _openOrder(orderId);
        for (uint256 i = 0; i < lineIds.length; ++i) {
            bytes32 lineId = lineIds[i];
            Line storage l = _lineOf(orderId, lineId);
            if (l.state != OrderLifecycle.State.Held) revert OrderLineInvalidState(lineId, l.state);
            uint32 reserved;
            if (l.reserved == 0) {
                reserved = l.quantity;
                _reserve(l, ref, detailsHash);
            }
            --o.heldLines;
            l.state = OrderLifecycle.State.InProgress;
            emit LineResumed(l.vendor, orderId, lineId, ref, OrderLifecycle.State.InProgress, reserved);
            if (l.consumed == l.quantity) {
                // used in full while it was held: it served its purpose, as in {consumeStock}
                _completeLine(o, l, lineId, ref, detailsHash);
            }
        }
        if (o.heldLines == 0 && o.state == OrderLifecycle.State.Held) {
            _setOrderState(o, orderId, OrderLifecycle.State.InProgress, ref);
        }
    }

    /// @inheritdoc IOrderBook
    /// @dev The first call moves the order to `pendingCancellation` (through
    /// `assessingCancellation`); each call removes the lines and cancels the service items it
    /// lists; the order becomes `cancelled` once no line or service item is open. A large
    /// order is thus cancelled over several bounded calls; nothing is dropped silently.
    function cancelOrder(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 orderId, bytes32[] memory lineIds, bytes32[] memory serviceIds, bytes32 detailsHash) =
            abi.decode(params, (bytes32, bytes32[], bytes32[], bytes32));
        _checkSize(lineIds.length);
        _checkSize(serviceIds.length);
        Order storage o = _existingOrder(orderId);
        if (o.state != OrderLifecycle.State.PendingCancellation) {
            _checkEdge(orderId, o.state, OrderLifecycle.State.AssessingCancellation);
            _setOrderState(o, orderId, OrderLifecycle.State.AssessingCancellation, ref);
            _setOrderState(o, orderId, OrderLifecycle.State.PendingCancellation, ref);
        }
        for (uint256 i = 0; i < lineIds.length; ++i) {
            _removeLine(o, _lineOf(orderId, lineIds[i]), lineIds[i], ref, detailsHash);
        }
        for (uint256 i = 0; i < serviceIds.length; ++i) {
            _cancelService(o, orderId, serviceIds[i], OrderLifecycle.ItemAction.NoChange, ref);
        }
        if (o.openLines == 0 && o.openServices == 0) {
            _setOrderState(o, orderId, OrderLifecycle.State.Cancelled, ref);
        }
    }

    /// @inheritdoc IOrderBook
    /// @dev The cancellation states are reached through {cancelOrder} only.
    function transitionOrder(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 orderId, uint8 rawTo,) = abi.decode(params, (bytes32, uint8, bytes32));
        OrderLifecycle.State to = _state(rawTo);
        Order storage o = _existingOrder(orderId);
        if (_isCancellation(to)) revert OrderInvalidTransition(orderId, o.state, to);
        _checkEdge(orderId, o.state, to);
        if (to == OrderLifecycle.State.Completed && (o.openLines != 0 || o.openServices != 0)) {
            revert OrderHasOpenItems(orderId, o.openLines, o.openServices);
        }
        // an order never ends (rejected, failed, partial) holding reservations: its open lines
        // are removed first (revision or cancellation), which releases their stock
        if (to.isTerminal() && o.openLines != 0) revert OrderHasOpenItems(orderId, o.openLines, o.openServices);
        _setOrderState(o, orderId, to, ref);
    }

    /// @inheritdoc IOrderBook
    /// @dev The cancellation states are reached through a revision's `Delete` or {cancelOrder}.
    function transitionService(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 orderId, bytes32 serviceId, uint8 rawTo,) = abi.decode(params, (bytes32, bytes32, uint8, bytes32));
        OrderLifecycle.State to = _state(rawTo);
        Order storage o = _existingOrder(orderId);
        Service storage s = _services[orderId][serviceId];
        if (s.state == OrderLifecycle.State.None) revert OrderServiceNotFound(orderId, serviceId);
        if (_isCancellation(to)) revert OrderInvalidTransition(serviceId, s.state, to);
        _checkEdge(serviceId, s.state, to);
        if (to.isTerminal() && s.openLines != 0) revert OrderServiceHasOpenLines(orderId, serviceId, s.openLines);
        emit ServiceStateChanged(orderId, _customerOf(o), ref, serviceId, s.state, to);
        _notifyVendors(o, orderId, ref, 1, serviceId, to);
        s.state = to;
        if (to.isTerminal()) --o.openServices;
    }

    /*//////////////////////////////////////////////////////////////
                            ACTIONS: STOCK
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOrderBook
    function deliverLine(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 lineId, uint32 quantity, bytes32 detailsHash) = abi.decode(params, (bytes32, uint32, bytes32));
        Line storage l = _existingLine(lineId);
        if (caller != l.vendor) revert OrderNotLineVendor(lineId, caller);
        if (quantity == 0) revert StockInvalidQuantity();
        OrderLifecycle.State state = l.state;
        if (state != OrderLifecycle.State.Acknowledged && state != OrderLifecycle.State.InProgress) {
            revert OrderLineInvalidState(lineId, state);
        }
        uint32 available = l.reserved - l.delivered;
        if (quantity > available) revert OrderOverDelivery(lineId, quantity, available);
        bytes32 orderId = l.orderId;
        Order storage o = _openOrder(orderId); // nothing is supplied to an order being cancelled
        bool first = l.delivered == 0;
        l.delivered += quantity;
        l.state = OrderLifecycle.State.InProgress;
        _stock[l.vendor][l.sku].delivered += quantity;
        emit LineDelivered(l.vendor, orderId, lineId, ref, quantity, l.delivered, detailsHash);
        if (first && l.assetId != bytes32(0)) _moveAsset(l.assetId, _ASSET_DELIVERED, ref, detailsHash);
        if (o.state == OrderLifecycle.State.Acknowledged || o.state == OrderLifecycle.State.Pending) {
            _setOrderState(o, orderId, OrderLifecycle.State.InProgress, ref);
        }
    }

    /// @inheritdoc IOrderBook
    function consumeStock(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 lineId, address vendor, bytes16 sku, uint32 quantity, bytes32 detailsHash) =
            abi.decode(params, (bytes32, address, bytes16, uint32, bytes32));
        Line storage l = _existingLine(lineId);
        if (vendor != l.vendor || sku != l.sku) revert StockWrongLine(lineId, vendor, sku);
        if (quantity == 0) revert StockInvalidQuantity();
        if (l.state != OrderLifecycle.State.InProgress && l.state != OrderLifecycle.State.Held) {
            revert OrderLineInvalidState(lineId, l.state);
        }
        uint32 available = l.delivered - l.consumed - l.returned;
        if (quantity > available) revert StockOverConsumption(lineId, quantity, available);
        uint32 consumed = l.consumed + quantity;
        l.consumed = consumed;
        _stock[vendor][sku].consumed += quantity;
        bytes32 orderId = l.orderId;
        emit StockConsumed(vendor, orderId, lineId, ref, sku, quantity, consumed, detailsHash);
        if (consumed == l.quantity && l.state == OrderLifecycle.State.InProgress) {
            // the line served its purpose in full: it is completed and no longer open
            _completeLine(_orders[orderId], l, lineId, ref, detailsHash);
        }
    }

    /// @inheritdoc IOrderBook
    function returnStock(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 lineId, uint32 quantity, bytes32 detailsHash) = abi.decode(params, (bytes32, uint32, bytes32));
        Line storage l = _existingLine(lineId);
        if (caller != l.vendor) revert OrderNotLineVendor(lineId, caller);
        if (quantity == 0) revert StockInvalidQuantity();
        uint32 available = l.delivered - l.consumed - l.returned;
        if (quantity > available) revert StockOverReturn(lineId, quantity, available);
        l.returned += quantity;
        _stock[l.vendor][l.sku].returned += quantity;
        emit StockReturned(l.vendor, l.orderId, lineId, ref, l.sku, quantity, l.returned, detailsHash);
    }

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOrderBook
    function getProject(bytes32 projectId) external view returns (address customer, uint32 orderCount) {
        Project storage p = _projects[projectId];
        return (p.customer, p.orderCount);
    }

    /// @inheritdoc IOrderBook
    function getOrder(bytes32 orderId) external view returns (OrderView memory) {
        Order storage o = _orders[orderId];
        return OrderView({
            projectId: o.projectId,
            state: o.state,
            revision: o.revision,
            lineCount: o.lineCount,
            openLines: o.openLines,
            heldLines: o.heldLines,
            serviceCount: o.serviceCount,
            openServices: o.openServices
        });
    }

    /// @inheritdoc IOrderBook
    function getService(bytes32 orderId, bytes32 serviceId) external view returns (ServiceView memory) {
        Service storage s = _services[orderId][serviceId];
        return ServiceView({state: s.state, action: s.action, version: s.version, openLines: s.openLines});
    }

    /// @inheritdoc IOrderBook
    function getLine(bytes32 lineId) external view returns (LineView memory) {
        return _lineView(lineId);
    }

    /// @inheritdoc IOrderBook
    function stockOf(address vendor, bytes16 sku) external view returns (StockView memory) {
        Stock storage s = _stock[vendor][sku];
        return _stockView(s.reserved, s.released, s.delivered, s.consumed, s.returned);
    }

    /// @inheritdoc IOrderBook
    function reconcileOrder(bytes32 orderId, uint256 offset, uint256 limit)
        external
        view
        returns (LineView[] memory lines, StockView memory totals)
    {
        mapping(uint256 => bytes32) storage index = _orderLines[orderId];
        return _page(index, _orders[orderId].lineCount, offset, limit);
    }

    /// @inheritdoc IOrderBook
    function reconcileVendor(address vendor, uint256 offset, uint256 limit)
        external
        view
        returns (LineView[] memory lines, StockView memory totals)
    {
        return _page(_vendorLines[vendor], _vendorLineCount[vendor], offset, limit);
    }

    /// @inheritdoc IOrderBook
    function projectOrders(bytes32 projectId, uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory orderIds)
    {
        (uint256 start, uint256 end) = _window(offset, limit, _projects[projectId].orderCount);
        orderIds = new bytes32[](end - start);
        for (uint256 i = start; i < end; ++i) {
            orderIds[i - start] = _projectOrders[projectId][i];
        }
    }

    /// @inheritdoc IOrderBook
    function orderServices(bytes32 orderId, uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory serviceIds, ServiceView[] memory services)
    {
        (uint256 start, uint256 end) = _window(offset, limit, _orders[orderId].serviceCount);
        serviceIds = new bytes32[](end - start);
        services = new ServiceView[](end - start);
        for (uint256 i = start; i < end; ++i) {
            bytes32 id = _orderServices[orderId][i];
            Service storage s = _services[orderId][id];
            serviceIds[i - start] = id;
            services[i - start] = ServiceView({state: s.state, action: s.action, version: s.version, openLines: s.openLines});
        }
    }

    /// @inheritdoc IOrderBook
    function vendorLineCount(address vendor) external view returns (uint256) {
        return _vendorLineCount[vendor];
    }

    /// @inheritdoc IOrderBook
    function canTransition(OrderLifecycle.State from, OrderLifecycle.State to) external pure returns (bool) {
        return OrderLifecycle.canTransition(from, to);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev A revision's service additions, modifications and confirmations (deletions last).
    function _reviseServices(Order storage o, bytes32 orderId, ServiceChange[] memory services, bytes32 ref) private {
        for (uint256 i = 0; i < services.length; ++i) {
            ServiceChange memory c = services[i];
            if (c.action > uint8(type(OrderLifecycle.ItemAction).max)) revert OrderInvalidAction(c.action);
            OrderLifecycle.ItemAction action = OrderLifecycle.ItemAction(c.action);
            if (action == OrderLifecycle.ItemAction.Add) {
                _addService(o, orderId, c.serviceId, c.version, ref);
            } else if (action != OrderLifecycle.ItemAction.Delete) {
                Service storage s = _openService(orderId, c.serviceId);
                if (action == OrderLifecycle.ItemAction.Modify) {
                    if (c.version <= s.version) revert OrderInvalidVersion(c.serviceId, s.version, c.version);
                    s.version = c.version;
                }
                s.action = action;
                emit ServiceItemChanged(orderId, _customerOf(o), ref, c.serviceId, action, s.version, s.state);
            }
        }
    }

    /// @dev A revision's device lines: added, removed, or kept under their policy.
    function _reviseLines(
        Order storage o,
        bytes32 orderId,
        LineChange[] memory lines,
        bytes32 ref,
        bytes32 detailsHash
    ) private {
        for (uint256 i = 0; i < lines.length; ++i) {
            LineChange memory c = lines[i];
            if (c.action == uint8(OrderLifecycle.ItemAction.Add)) {
                _addLine(o, orderId, c.line, true, ref, detailsHash);
            } else if (c.action == uint8(OrderLifecycle.ItemAction.Delete)) {
                _removeLine(o, _lineOf(orderId, c.line.lineId), c.line.lineId, ref, detailsHash);
            } else if (c.action == uint8(OrderLifecycle.ItemAction.NoChange)) {
                _keepLine(o, orderId, c.line.lineId, c.line.policy, ref);
            } else {
                revert OrderInvalidAction(c.action);
            }
        }
    }

    function _addService(Order storage o, bytes32 orderId, bytes32 serviceId, uint32 version, bytes32 ref) private {
        if (serviceId == bytes32(0)) revert OrderInvalidId();
        Service storage s = _services[orderId][serviceId];
        if (s.state != OrderLifecycle.State.None) revert OrderServiceExists(orderId, serviceId);
        (s.state, s.action, s.version) = (OrderLifecycle.State.Acknowledged, OrderLifecycle.ItemAction.Add, version);
        _orderServices[orderId][o.serviceCount++] = serviceId;
        ++o.openServices;
        emit ServiceItemChanged(
            orderId,
            _customerOf(o),
            ref,
            serviceId,
            OrderLifecycle.ItemAction.Add,
            version,
            OrderLifecycle.State.Acknowledged
        );
    }

    /// @dev Records a line. An `AutoCorrect` line is ordered at once; a `Pause` line added by a
    /// revision is recorded held (ordered on resume). Lines added outside a revision
    /// ({addDeviceLine}) are always ordered: the policy only matters when a change comes.
    function _addLine(
        Order storage o,
        bytes32 orderId,
        LineSpec memory spec,
        bool inRevision,
        bytes32 ref,
        bytes32 detailsHash
    ) private {
        bytes32 lineId = spec.lineId;
        if (lineId == bytes32(0)) revert OrderInvalidId();
        if (spec.vendor == address(0) || spec.quantity == 0) revert OrderInvalidLine(lineId);
        Line storage l = _lines[lineId];
        if (l.state != OrderLifecycle.State.None) revert OrderLineExists(lineId);
        ++_openService(orderId, spec.serviceId).openLines;
        l.policy = _policy(spec.policy);
        bool held = inRevision && l.policy == OrderLifecycle.ChangePolicy.Pause;
        l.orderId = orderId;
        l.serviceId = spec.serviceId;
        l.assetId = spec.assetId;
        l.vendor = spec.vendor;
        l.sku = spec.sku;
        l.quantity = spec.quantity;
        l.state = held ? OrderLifecycle.State.Held : OrderLifecycle.State.Acknowledged;
        _orderLines[orderId][o.lineCount++] = lineId;
        _vendorLines[spec.vendor][_vendorLineCount[spec.vendor]++] = lineId;
        _addVendor(o, orderId, spec.vendor);
        ++o.openLines;
        _emitLineAdded(l, lineId, ref, held ? 0 : spec.quantity);
        if (held) {
            _hold(o, orderId, l, lineId, ref);
        } else {
            l.reserved = spec.quantity;
            _stock[spec.vendor][spec.sku].reserved += spec.quantity;
        }
        if (spec.assetId != bytes32(0)) {
            // the line holds the twin: its customer and vendor become the twin's parties; an
            // ordered line's twin goes to PendingInstallation (effects above, calls last)
            _assignParties(spec.assetId, _BIND_LINE, _projects[o.projectId].customer, spec.vendor, ref, detailsHash);
            if (!held) _moveAsset(spec.assetId, _ASSET_PENDING_INSTALLATION, ref, detailsHash);
        }
    }

    function _emitLineAdded(Line storage l, bytes32 lineId, bytes32 ref, uint32 reserved) private {
        emit LineAdded(
            l.vendor, l.orderId, lineId, ref, l.serviceId, l.assetId, l.sku, l.quantity, reserved, l.policy, l.state
        );
    }

    /// @dev Orders the line's quantity from its vendor (the reservation belongs to the line).
    function _reserve(Line storage l, bytes32 ref, bytes32 detailsHash) private {
        uint32 q = l.quantity;
        l.reserved = q;
        _stock[l.vendor][l.sku].reserved += q;
        if (l.assetId != bytes32(0)) _moveAsset(l.assetId, _ASSET_PENDING_INSTALLATION, ref, detailsHash);
    }

    /// @dev Pause: the line is held (if not already) and its supplier told the order is re-planned.
    function _hold(Order storage o, bytes32 orderId, Line storage l, bytes32 lineId, bytes32 ref) private {
        emit LineReplanning(l.vendor, orderId, lineId, ref, o.revision);
        if (o.state != OrderLifecycle.State.Held) {
            _checkEdge(orderId, o.state, OrderLifecycle.State.Held);
            _setOrderState(o, orderId, OrderLifecycle.State.Held, ref);
        }
        ++o.heldLines;
    }

    /// @dev A line the revision keeps: `Pause` holds it (and tells its supplier), `AutoCorrect`
    /// lets it carry on untouched. The policy given becomes the line's policy.
    function _keepLine(Order storage o, bytes32 orderId, bytes32 lineId, uint8 rawPolicy, bytes32 ref) private {
        Line storage l = _lineOf(orderId, lineId);
        if (l.state == OrderLifecycle.State.Cancelled) revert OrderLineInvalidState(lineId, l.state);
        OrderLifecycle.ChangePolicy policy = _policy(rawPolicy);
        l.policy = policy;
        if (policy == OrderLifecycle.ChangePolicy.AutoCorrect || l.state == OrderLifecycle.State.Held) {
            if (l.state == OrderLifecycle.State.Held) emit LineReplanning(l.vendor, orderId, lineId, ref, o.revision);
            return;
        }
        if (!l.state.canTransition(OrderLifecycle.State.Held)) {
            revert OrderInvalidTransition(lineId, l.state, OrderLifecycle.State.Held);
        }
        l.state = OrderLifecycle.State.Held;
        _hold(o, orderId, l, lineId, ref);
    }

    /// @dev The line leaves the order: its open reservation is released; delivered units still
    /// out must come back (its asset, if delivered, goes to recovery; if only ordered, back to
    /// Planned). The line walks assessingCancellation → pendingCancellation → cancelled.
    function _removeLine(Order storage o, Line storage l, bytes32 lineId, bytes32 ref, bytes32 detailsHash) private {
        OrderLifecycle.State from = l.state;
        if (!from.canTransition(OrderLifecycle.State.AssessingCancellation)) {
            revert OrderInvalidTransition(lineId, from, OrderLifecycle.State.AssessingCancellation);
        }
        uint32 released = l.reserved - l.released - l.delivered;
        uint32 stillOut = l.delivered - l.consumed - l.returned;
        if (released != 0) {
            l.released += released;
            _stock[l.vendor][l.sku].released += released;
        }
        l.state = OrderLifecycle.State.Cancelled;
        if (from == OrderLifecycle.State.Held) --o.heldLines;
        --o.openLines;
        bytes32 orderId = l.orderId;
        --_services[orderId][l.serviceId].openLines;
        bool recovering;
        if (l.assetId != bytes32(0)) {
            if (l.delivered != 0) {
                recovering = true;
                _moveAsset(l.assetId, _ASSET_RECOVERING, ref, detailsHash);
            } else if (l.reserved != 0) {
                _moveAsset(l.assetId, _ASSET_PLANNED, ref, detailsHash);
            }
            _assignParties(l.assetId, _RELEASE_LINE, address(0), address(0), ref, detailsHash);
        }
        emit LineRemoved(l.vendor, orderId, lineId, ref, from, released, stillOut, recovering);
        if (o.heldLines == 0 && o.state == OrderLifecycle.State.Held) {
            _setOrderState(o, orderId, OrderLifecycle.State.InProgress, ref);
        }
    }

    /// @dev Cancels a service item (revision `Delete` or order cancellation).
    function _cancelService(
        Order storage o,
        bytes32 orderId,
        bytes32 serviceId,
        OrderLifecycle.ItemAction action,
        bytes32 ref
    ) private {
        Service storage s = _services[orderId][serviceId];
        OrderLifecycle.State from = s.state;
        if (from == OrderLifecycle.State.None) revert OrderServiceNotFound(orderId, serviceId);
        if (!from.canTransition(OrderLifecycle.State.AssessingCancellation)) {
            revert OrderInvalidTransition(serviceId, from, OrderLifecycle.State.AssessingCancellation);
        }
        if (s.openLines != 0) revert OrderServiceHasOpenLines(orderId, serviceId, s.openLines);
        s.state = OrderLifecycle.State.Cancelled;
        if (action == OrderLifecycle.ItemAction.Delete) s.action = action;
        --o.openServices;
        address customer = _customerOf(o);
        emit ServiceStateChanged(orderId, customer, ref, serviceId, from, OrderLifecycle.State.Cancelled);
        _notifyVendors(o, orderId, ref, 1, serviceId, OrderLifecycle.State.Cancelled);
        if (action == OrderLifecycle.ItemAction.Delete) {
            emit ServiceItemChanged(orderId, customer, ref, serviceId, action, s.version, OrderLifecycle.State.Cancelled);
        }
    }

    /// @dev The line served its purpose in full: Completed, no longer open, its twin released.
    /// Emits {LineCompleted}.
    function _completeLine(Order storage o, Line storage l, bytes32 lineId, bytes32 ref, bytes32 detailsHash)
        private
    {
        bytes32 orderId = l.orderId;
        l.state = OrderLifecycle.State.Completed;
        --o.openLines;
        --_services[orderId][l.serviceId].openLines;
        emit LineCompleted(l.vendor, orderId, lineId, ref, l.consumed);
        if (l.assetId != bytes32(0)) _assignParties(l.assetId, _RELEASE_LINE, address(0), address(0), ref, detailsHash);
    }

    function _assignParties(
        bytes32 assetId,
        uint8 op,
        address customer,
        address vendor,
        bytes32 ref,
        bytes32 detailsHash
    ) private {
        _executeInternal(_ASSIGN_PARTIES, ref, abi.encode(assetId, op, customer, vendor, detailsHash));
    }

    function _moveAsset(bytes32 assetId, uint8 to, bytes32 ref, bytes32 detailsHash) private {
        _executeInternal(_TRANSITION, ref, abi.encode(assetId, to, detailsHash));
    }

    function _setOrderState(Order storage o, bytes32 orderId, OrderLifecycle.State to, bytes32 ref) private {
        emit OrderStateChanged(orderId, _customerOf(o), ref, o.state, to);
        _notifyVendors(o, orderId, ref, 0, bytes32(0), to);
        o.state = to;
    }

    /// @dev An existing project ({OrderProjectNotFound}).
    function _project(bytes32 projectId) private view returns (Project storage p) {
        p = _projects[projectId];
        if (p.customer == address(0)) revert OrderProjectNotFound(projectId);
    }

    function _createOrder(
        address actor,
        bytes32 ref,
        bytes32 orderId,
        Project storage p,
        bytes32 projectId,
        bytes32 detailsHash
    ) private {
        if (orderId == bytes32(0)) revert OrderInvalidId();
        Order storage o = _orders[orderId];
        if (o.state != OrderLifecycle.State.None) revert OrderExists(orderId);
        (o.projectId, o.state) = (projectId, OrderLifecycle.State.Acknowledged);
        _projectOrders[projectId][p.orderCount++] = orderId;
        emit OrderCreated(orderId, projectId, ref, actor, detailsHash);
    }

    /// @dev The customer of the order's project.
    function _customerOf(Order storage o) private view returns (address) {
        return _projects[o.projectId].customer;
    }

    /// @dev One {OrderPartyNotified} per distinct vendor of the order (at most {MAX_ORDER_VENDORS}).
    function _notifyVendors(
        Order storage o,
        bytes32 orderId,
        bytes32 ref,
        uint8 what,
        bytes32 serviceId,
        OrderLifecycle.State state
    ) private {
        uint256 n = o.vendorCount;
        mapping(uint256 => address) storage vendors = _orderVendors[orderId];
        for (uint256 i = 0; i < n; ++i) {
            emit OrderPartyNotified(vendors[i], orderId, ref, what, serviceId, state);
        }
    }

    /// @dev Records `vendor` among the order's distinct vendors ({OrderTooManyVendors} past the cap).
    function _addVendor(Order storage o, bytes32 orderId, address vendor) private {
        uint256 n = o.vendorCount;
        mapping(uint256 => address) storage vendors = _orderVendors[orderId];
        for (uint256 i = 0; i < n; ++i) {
            if (vendors[i] == vendor) return;
        }
        if (n == MAX_ORDER_VENDORS) revert OrderTooManyVendors(orderId, MAX_ORDER_VENDORS);
        vendors[n] = vendor;
        o.vendorCount = uint8(n + 1);
    }

    function _checkEdge(bytes32 id, OrderLifecycle.State from, OrderLifecycle.State to) private pure {
        if (!from.canTransition(to)) revert OrderInvalidTransition(id, from, to);
    }

    function _isCancellation(OrderLifecycle.State s) private pure returns (bool) {
        return s == OrderLifecycle.State.AssessingCancellation || s == OrderLifecycle.State.PendingCancellation
            || s == OrderLifecycle.State.Cancelled;
    }

    function _checkSize(uint256 n) private pure {
        if (n > MAX_CHANGES) revert OrderTooManyChanges(n, MAX_CHANGES);
    }

    function _state(uint8 raw) private pure returns (OrderLifecycle.State) {
        if (raw == 0 || raw > uint8(type(OrderLifecycle.State).max)) revert OrderUnknownState(raw);
        return OrderLifecycle.State(raw);
    }

    function _policy(uint8 raw) private pure returns (OrderLifecycle.ChangePolicy) {
        if (raw > uint8(type(OrderLifecycle.ChangePolicy).max)) revert OrderUnknownPolicy(raw);
        return OrderLifecycle.ChangePolicy(raw);
    }

    function _existingOrder(bytes32 orderId) private view returns (Order storage o) {
        o = _orders[orderId];
        if (o.state == OrderLifecycle.State.None) revert OrderNotFound(orderId);
    }

    /// @dev An order that accepts changes: one from which a cancellation could still start
    /// (acknowledged, pending, held, inProgress).
    function _openOrder(bytes32 orderId) private view returns (Order storage o) {
        o = _existingOrder(orderId);
        if (!o.state.canTransition(OrderLifecycle.State.AssessingCancellation)) revert OrderNotOpen(orderId, o.state);
    }

    function _openService(bytes32 orderId, bytes32 serviceId) private view returns (Service storage s) {
        s = _services[orderId][serviceId];
        if (s.state == OrderLifecycle.State.None) revert OrderServiceNotFound(orderId, serviceId);
        if (s.state.isTerminal()) revert OrderServiceClosed(orderId, serviceId);
    }

    function _existingLine(bytes32 lineId) private view returns (Line storage l) {
        l = _lines[lineId];
        if (l.state == OrderLifecycle.State.None) revert OrderLineNotFound(lineId);
    }

    function _lineOf(bytes32 orderId, bytes32 lineId) private view returns (Line storage l) {
        l = _existingLine(lineId);
        if (l.orderId != orderId) revert OrderLineNotInOrder(orderId, lineId);
    }

    function _lineView(bytes32 lineId) private view returns (LineView memory v) {
        Line storage l = _lines[lineId];
        v = LineView({
            lineId: lineId,
            orderId: l.orderId,
            serviceId: l.serviceId,
            assetId: l.assetId,
            vendor: l.vendor,
            sku: l.sku,
            quantity: l.quantity,
            policy: l.policy,
            state: l.state,
            reserved: l.reserved,
            released: l.released,
            delivered: l.delivered,
            consumed: l.consumed,
            returned: l.returned
        });
    }

    function _stockView(uint256 reserved, uint256 released, uint256 delivered, uint256 consumed, uint256 returned)
        private
        pure
        returns (StockView memory)
    {
        return StockView({
            reserved: reserved,
            released: released,
            delivered: delivered,
            consumed: consumed,
            returned: returned,
            openReservation: reserved - released - delivered,
            stillOut: delivered - consumed - returned
        });
    }

    function _page(mapping(uint256 => bytes32) storage index, uint256 count, uint256 offset, uint256 limit)
        private
        view
        returns (LineView[] memory lines, StockView memory totals)
    {
        uint256 end;
        (offset, end) = _window(offset, limit, count);
        lines = new LineView[](end - offset);
        uint256[5] memory t;
        for (uint256 i = offset; i < end; ++i) {
            LineView memory v = _lineView(index[i]);
            lines[i - offset] = v;
            (t[0], t[1], t[2], t[3], t[4]) =
                (t[0] + v.reserved, t[1] + v.released, t[2] + v.delivered, t[3] + v.consumed, t[4] + v.returned);
        }
        totals = _stockView(t[0], t[1], t[2], t[3], t[4]);
    }

    /// @dev The slice `[start, end)` of `count` items that a page `(offset, limit)` covers.
    function _window(uint256 offset, uint256 limit, uint256 count) private pure returns (uint256 start, uint256 end) {
        start = offset > count ? count : offset;
        end = limit > count - start ? count : start + limit;
    }
}
