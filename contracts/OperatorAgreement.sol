// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAssetRegistry} from "./interfaces/IAssetRegistry.sol";
import {IConstitution} from "./interfaces/IConstitution.sol";
import {ICustomerRegistry} from "./interfaces/ICustomerRegistry.sol";
import {IEscrowPayment} from "./interfaces/IEscrowPayment.sol";
import {IOperatorAgreement, MACD_KINDS} from "./interfaces/IOperatorAgreement.sol";
import {IAgreementBilling} from "./interfaces/IAgreementBilling.sol";
import {ConstitutionModule} from "./modules/ConstitutionModule.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title OperatorAgreement
/// @notice Installation, MACD and disconnect flows of seed 000 between one operator and its
/// customers, on the AssetRegistry's twins, charged through the EscrowPayment. A Constitution
/// module: see {IOperatorAgreement} and docs/agreement.md.
/// @dev Design notes:
/// - Charging, chosen for gas: an installation is one held invoice (its payment gates the
///   activation, so it needs its own escrow entry). MACD and disconnect charges are NOT
///   invoiced one by one: they accrue on the customer's running account, a single storage
///   word (balance, period, line count, opening time) kept non-zero across periods, so a
///   charge costs one warm-able SSTORE (~5,000 gas) instead of a new invoice (~120,000: five
///   new slots, two index entries, events). `billAccount` closes a period into one invoice, or
///   one credit note when credits exceed charges. A batch (`orderChanges`) accrues its total
///   once.
/// - Per asset one word: customer, the open operation ({Pending}), its MACD kind, the
///   non-payment flag and what the open operation charged (int72), so an order, its
///   confirmation and its cancellation each read and write one slot; the installation invoice
///   id in a second slot (installations only). An operation is recorded as ordered with its
///   charge: it is confirmed or cancelled once, and a cancellation gives back exactly that.
/// - Flows own the twin: the customer is a party of the twin in the AssetRegistry (set by an
///   order line or by the operator's installation request, cleared when the service ends);
///   the registry's public verbs refuse a twin with a customer, so only these flows move it.
/// - The twins move through the AssetRegistry's Internal `transition` (one asset) and
///   `transitionBatch` (many); the registry enforces its table, so "the current state is
///   evaluated" by the registry in the hot path rather than by an extra view call here.
/// - Several operators: a customer registered in the CustomerRegistry is served by its own
///   operator (fixed for the customer's life) on a bilateral price list only the two know; its
///   service word carries a flag and the operator sits in a third slot, read only when that
///   flag is set, so the default operator's services read no extra slot. Its charges are stated
///   per request ({actFor}); a request the customer asked for carries its EIP-712 consent; its
///   monthly recurring charge is agreed per service by both parties ({actFor} op 3).
/// - Transactions loop only over their calldata arrays (at most {MAX_BATCH}).
/// - Billing (issue 14, {IAgreementBilling}): each charge is a line item folded into the
///   customer's period digest (one more warm-able word per customer: ~5k gas per order), the
///   digest is the subject of the period's invoice; recurring charges live in the asset's second
///   slot (start, billed-to, monthly) next to the installation invoice; the accrual, the bill
///   and the final disconnect's credit payout use the service's own operator.
contract OperatorAgreement is IOperatorAgreement, IAgreementBilling, ConstitutionModule {
    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Slot 0 per asset: customer, open operation, MACD kind, flags ({_NON_PAYMENT},
    /// {_BILATERAL}), charge (32 bytes). Slot 1: the last installation invoice and the recurring
    /// charge (start, billed to, monthly). Slot 2: a bilateral customer's operator (read only when
    /// slot 0 flags {_BILATERAL}).
    struct Service {
        address customer;
        Pending pending;
        uint8 kind;
        uint8 flags;
        int72 charge;
        uint64 installInvoice;
        uint40 start;
        uint40 billedTo;
        uint72 monthly;
        address operator;
    }

    /// @dev One word per customer (never zero once the customer has had an installation).
    struct Account {
        int128 balance;
        uint32 period;
        uint32 lines;
        uint64 openedAt;
    }

    /// @dev One word per customer: its open services and, set by its first bilateral installation,
    /// the operator its running account is kept with (zero: the default operator's customer).
    struct Party {
        uint96 services;
        address accountOperator;
    }

    /// @dev The decoded {actFor} request.
    struct Act {
        uint8 op;
        uint8 kind;
        address customer;
        bytes32 assetId;
        bytes32 detailsHash;
        uint256 overdue;
        int256 charge;
        int256 maxCharge;
        uint256 nonce;
        uint64 deadline;
        bytes inner;
        bytes signature;
        bytes32[] assetIds;
    }

    /// @inheritdoc IOperatorAgreement
    uint256 public constant MAX_BATCH = 256;
    /// @notice Longest payment term, in days.
    uint32 public constant MAX_PAYMENT_DAYS = 365;

    bytes32 private constant _TRANSITION = keccak256("transition");
    bytes32 private constant _TRANSITION_BATCH = keccak256("transitionBatch");
    bytes32 private constant _ASSIGN_PARTIES = keccak256("assignParties");
    bytes32 private constant _ISSUE_INVOICE = keccak256("issueInvoice");
    bytes32 private constant _CONFIRM_INVOICE = keccak256("confirmInvoice");
    bytes32 private constant _VOID_INVOICE = keccak256("voidInvoice");
    bytes32 private constant _ISSUE_CREDIT_NOTE = keccak256("issueCreditNote");
    bytes32 private constant _SETTLE_CREDIT = keccak256("settleCredit");
    bytes32 private constant _USE_CONSENT = keccak256("useConsent");
    bytes32 private constant _REQUEST_INSTALLATION = keccak256("requestInstallation");
    bytes32 private constant _ORDER_CHANGE = keccak256("orderChange");
    /// @dev The consent action of a bulk MACD order ({actFor} op 4; subject: the list's hash).
    bytes32 private constant _ORDER_CHANGES = keccak256("orderChanges");
    bytes32 private constant _ORDER_DISCONNECT = keccak256("orderDisconnect");
    /// @dev The consent action of a bilateral service's monthly charge ({actFor} op 3).
    bytes32 private constant _RECURRING_CHARGE = keccak256("recurringCharge");

    /// @inheritdoc IAgreementBilling
    uint64 public constant MONTH = 30 days;
    uint8 private constant _RECURRING = uint8(ChargeKind.Recurring);
    /// @dev The line kind of MACD kind 0; MACD kind `k`'s is `_MACD_LINE + k` ({ChargeKind}).
    uint8 private constant _MACD_LINE = uint8(ChargeKind.Macd);

    /// @dev Service flags: the open disconnect is for non-payment; the customer is registered.
    uint8 private constant _NON_PAYMENT = 1;
    uint8 private constant _BILATERAL = 2;
    /// @dev Installation mode bit: the operator submitted the request.
    uint8 private constant _BY_OPERATOR = 4;

    /// @dev AssetLifecycle states used here (docs/assets.md).
    uint8 private constant _PLANNED = 1;
    uint8 private constant _PENDING_INSTALLATION = 2;
    uint8 private constant _DELIVERED = 3;
    uint8 private constant _ACTIVE = 4;
    uint8 private constant _PENDING_CHANGE = 5;
    uint8 private constant _PENDING_DISCONNECT = 6;
    uint8 private constant _INACTIVE = 7;
    uint8 private constant _RECOVERING = 8;

    /// @dev IAssetRegistry.PartyOp values.
    uint8 private constant _SET_CUSTOMER = 2;
    uint8 private constant _CLEAR_CUSTOMER = 3;

    /// @notice The digital twins.
    IAssetRegistry public immutable REGISTRY;
    /// @notice The escrow that holds the invoices.
    IEscrowPayment public immutable ESCROW;
    /// @notice The customers (operator per customer, consents).
    ICustomerRegistry public immutable CUSTOMERS;
    /// @dev The default operator (payee for the unregistered member customers).
    address private immutable _OPERATOR;

    Terms private _terms;
    mapping(bytes32 assetId => Service) private _services;
    mapping(address customer => Account) private _accounts;
    /// @dev The current period's line digest per customer (seeded non-zero at the period's opening).
    mapping(address customer => bytes32) private _digests;
    /// @dev Per customer: its services (requested and not ended: the final disconnect pays credit
    /// out) and the operator its running account is kept with (see {_accountOperator}), one slot.
    mapping(address customer => Party) private _parties;
    /// @dev The monthly charge of services confirmed from now on (see {_monthlyRate}).
    uint72 private _monthly;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param constitution The Constitution whose actions this module implements.
    /// @param registry The AssetRegistry (its `transition` / `transitionBatch` / `assignParties` Internal actions).
    /// @param escrow The EscrowPayment (its Internal invoice actions).
    /// @param customers The CustomerRegistry (its `useConsent` Internal action, operator per customer).
    /// @param operator_ The default operator: payee and confirmer for unregistered customers.
    /// @param initialTerms The terms at deploy (from consortium.yaml); later only {setTerms}.
    constructor(
        IConstitution constitution,
        IAssetRegistry registry,
        IEscrowPayment escrow,
        ICustomerRegistry customers,
        address operator_,
        Terms memory initialTerms
    ) ConstitutionModule(constitution) {
        if (operator_ == address(0)) revert AgreementUnauthorized(operator_);
        (REGISTRY, ESCROW, CUSTOMERS, _OPERATOR) = (registry, escrow, customers, operator_);
        _setTerms(initialTerms, bytes32(0));
    }

    /*//////////////////////////////////////////////////////////////
                          ACTIONS: INSTALLATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator or `customer` ({AgreementUnauthorized});
    /// `customer` is an active member other than the operator ({AgreementInvalidCustomer}); the
    /// twin is not another customer's, and a customer asking for itself only gets a twin the
    /// operator (or its order line) assigned to it ({AgreementNotCustomerAsset}); nothing is
    /// open on the twin ({AgreementInvalidPending}); the twin is Planned or Inactive, or already
    /// scheduled (PendingInstallation or Delivered) ({AgreementDuplicateInstallation}).
    /// Emits {InstallationRequested} (+ registry and escrow events).
    function requestInstallation(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, address customer, bytes32 detailsHash) = abi.decode(params, (bytes32, address, bytes32));
        if (caller != _OPERATOR && caller != customer) revert AgreementUnauthorized(caller);
        if (CUSTOMERS.operatorOf(customer) != address(0)) revert AgreementBilateralTerms(customer);
        if (customer == _OPERATOR || !CONSTITUTION.isActiveMember(customer)) revert AgreementInvalidCustomer(customer);
        Act memory a;
        (a.assetId, a.customer, a.detailsHash, a.charge) = (assetId, customer, detailsHash, _terms.installation);
        _requestInstallation(a, caller, _OPERATOR, caller == _OPERATOR ? _BY_OPERATOR : 0, ref);
    }

    /// @dev An installation of `a` (asset, customer, details, charge) served by `operator_`,
    /// asked by `actor`; `mode`: {_BY_OPERATOR} the operator submitted it (it picks the twin),
    /// {_BILATERAL} the customer is registered.
    function _requestInstallation(Act memory a, address actor, address operator_, uint8 mode, bytes32 ref) private {
        bytes32 assetId = a.assetId;
        address customer = a.customer;
        Service storage s = _services[assetId];
        Pending open = s.pending;
        if (open == Pending.Installation) {
            revert AgreementDuplicateInstallation(assetId, uint8(REGISTRY.stateOf(assetId)), s.installInvoice);
        }
        if (open != Pending.None) revert AgreementInvalidPending(assetId, Pending.None, open);
        if (mode & _BILATERAL != 0) _claimAccount(customer, operator_);
        _schedule(assetId, s, mode & _BY_OPERATOR != 0, customer, ref, a.detailsHash);
        if (s.customer == address(0)) ++_parties[customer].services;
        uint256 invoiceId;
        if (a.charge != 0) {
            invoiceId = _issueInvoice(customer, operator_, uint256(a.charge), true, assetId, ref);
        }
        (s.customer, s.pending, s.flags, s.charge) = (customer, Pending.Installation, mode & _BILATERAL, 0);
        s.installInvoice = SafeCast.toUint64(invoiceId);
        if (mode & _BILATERAL != 0) s.operator = operator_;
        _openAccount(customer);
        emit InstallationRequested(assetId, customer, ref, actor, invoiceId, uint256(a.charge));
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator; an installation is open on the asset
    /// ({AgreementInvalidPending}); its invoice is Funded, or already Released by the payer
    /// ({AgreementNotFunded}; a free installation has none); the twin is Delivered
    /// ({AgreementInvalidAssetState}); a serial is bound (the registry's AssetSerialRequired).
    /// Emits {InstallationConfirmed}.
    function confirmInstallation(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        Service storage s = _pending(assetId, Pending.Installation);
        _onlyOperatorOf(caller, s);
        uint256 invoiceId = s.installInvoice;
        bool confirm;
        if (invoiceId != 0) {
            IEscrowPayment.Status status = ESCROW.statusOf(invoiceId);
            confirm = status == IEscrowPayment.Status.Funded;
            if (!confirm && status != IEscrowPayment.Status.Released) {
                revert AgreementNotFunded(assetId, invoiceId, uint8(status));
            }
        }
        uint8 state = uint8(REGISTRY.stateOf(assetId));
        if (state != _DELIVERED) revert AgreementInvalidAssetState(assetId, state);
        _transition(assetId, _ACTIVE, ref, detailsHash);
        if (confirm) _executeInternal(_CONFIRM_INVOICE, ref, abi.encode(invoiceId));
        s.pending = Pending.None;
        (s.start, s.billedTo) = (uint40(block.timestamp), uint40(block.timestamp));
        // a bilateral service keeps the monthly charge its parties agreed ({actFor} op 3), else 0
        if (s.flags & _BILATERAL == 0) s.monthly = _monthly;
        emit InstallationConfirmed(assetId, s.customer, ref, invoiceId);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator or the asset's customer; an installation is
    /// open ({AgreementInvalidPending}). A twin on an open order line stays where the line put
    /// it; otherwise a PendingInstallation twin goes back to Planned and a Delivered one to
    /// Recovering (a twin its removed line already moved stays). The customer's hold ends. The
    /// money comes back whole: an open invoice is cancelled (Issued) or refunded (Funded), and
    /// one the payer already released early becomes a credit note for its full amount.
    /// Emits {InstallationWithdrawn}.
    function withdrawInstallation(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        Service storage s = _pending(assetId, Pending.Installation);
        address customer = s.customer;
        address operator_ = _operatorOf(s);
        if (caller != operator_ && caller != customer) revert AgreementUnauthorized(caller);
        uint256 invoiceId = s.installInvoice;
        delete _services[assetId]; // the service ends
        --_parties[customer].services;
        IAssetRegistry.AssetView memory twin = REGISTRY.getAsset(assetId);
        uint8 to = uint8(twin.state);
        if (!twin.onLine && (to == _PENDING_INSTALLATION || to == _DELIVERED)) {
            to = to == _PENDING_INSTALLATION ? _PLANNED : _RECOVERING;
            _transition(assetId, to, ref, detailsHash);
        }
        _giveBack(invoiceId, customer, operator_, assetId, ref);
        _releaseTwin(assetId, ref, detailsHash);
        emit InstallationWithdrawn(assetId, customer, ref, caller, to);
    }

    /*//////////////////////////////////////////////////////////////
                              ACTIONS: MACD
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorAgreement
    /// @dev The lean path: one read-modify-write of the asset word and of the account word, the
    /// registry's Internal `transition`. Requirements: `kind` ({AgreementUnknownKind}); the
    /// agreement serves the asset ({AgreementUnknownService}); `caller` is the operator or its
    /// customer; nothing else open ({AgreementInvalidPending}); the twin is Active (the
    /// registry's AssetInvalidTransition). Emits {ChangeOrdered}.
    function orderChange(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (uint8 kind, bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (uint8, bytes32, bytes32));
        int256 charge = _tariff(kind);
        Service storage s = _known(assetId);
        if (s.flags & _BILATERAL != 0) revert AgreementBilateralTerms(s.customer);
        _orderChange(caller, ref, kind, s, assetId, detailsHash, charge);
    }

    /// @dev One MACD order on the served asset `assetId` (its service `s`, known to the caller)
    /// by `caller`, charged `charge`.
    function _orderChange(
        address caller,
        bytes32 ref,
        uint8 kind,
        Service storage s,
        bytes32 assetId,
        bytes32 detailsHash,
        int256 charge
    ) private {
        address customer = s.customer;
        if (caller != customer && caller != _operatorOf(s)) revert AgreementUnauthorized(caller);
        if (s.pending != Pending.None) revert AgreementInvalidPending(assetId, Pending.None, s.pending);
        (s.pending, s.kind, s.charge) = (Pending.Change, kind, int72(charge));
        _transition(assetId, _PENDING_CHANGE, ref, detailsHash);
        int256 balance = _accrue(customer, charge, 1, assetId, _MACD_LINE + kind, 0, 0);
        emit ChangeOrdered(assetId, customer, ref, caller, kind, charge, balance);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: as {orderChange} per asset; 1 to {MAX_BATCH} assets
    /// ({AgreementBatchInvalidSize}), all of one customer ({AgreementMixedCustomers}); the
    /// registry's `transitionBatch` (every twin Active). The total charge accrues once.
    /// Emits {ChangesOrdered}.
    function orderChanges(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (uint8 kind, bytes32[] memory assetIds, bytes32 detailsHash) =
            abi.decode(params, (uint8, bytes32[], bytes32));
        int256 tariff_ = _tariff(kind);
        uint256 n = assetIds.length;
        address customer = _orderBatch(assetIds, kind, int72(tariff_), 0);
        if (caller != _OPERATOR && caller != customer) revert AgreementUnauthorized(caller);
        _executeInternal(_TRANSITION_BATCH, ref, abi.encode(_ACTIVE, _PENDING_CHANGE, assetIds, detailsHash));
        int256 charge = tariff_ * int256(n);
        int256 balance = _accrue(customer, charge, n, keccak256(abi.encodePacked(assetIds)), _MACD_LINE + kind, 0, 0);
        emit ChangesOrdered(customer, ref, kind, caller, charge, balance, assetIds);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator; a change is open on the asset
    /// ({AgreementInvalidPending}); the twin is PendingChange (the registry). A confirmed
    /// deletion ends the service (the customer's hold on the twin). Emits {ChangeConfirmed}.
    function confirmChange(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        Service storage s = _pending(assetId, Pending.Change);
        _onlyOperatorOf(caller, s);
        address customer = s.customer;
        bool deleted = s.kind == uint8(MacdKind.Delete);
        if (deleted) {
            _accrueRecurring(assetId, s, customer, ref);
            delete _services[assetId]; // a confirmed deletion ends the service
            --_parties[customer].services;
        } else {
            s.pending = Pending.None;
        }
        _transition(assetId, deleted ? _INACTIVE : _ACTIVE, ref, detailsHash);
        if (deleted) _releaseTwin(assetId, ref, detailsHash);
        emit ChangeConfirmed(assetId, customer, ref, deleted);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator; 1 to {MAX_BATCH} assets of one customer,
    /// each with a change open ({AgreementInvalidPending}) that is a deletion iff `deletions`
    /// ({AgreementDeletionMismatch}); every twin PendingChange (the registry). Emits {ChangesConfirmed}.
    function confirmChanges(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bool deletions, bytes32[] memory assetIds, bytes32 detailsHash) =
            abi.decode(params, (bool, bytes32[], bytes32));
        address customer = _confirmBatch(caller, assetIds, deletions, ref);
        uint8 to = deletions ? _INACTIVE : _ACTIVE;
        _executeInternal(_TRANSITION_BATCH, ref, abi.encode(_PENDING_CHANGE, to, assetIds, detailsHash));
        if (deletions) {
            for (uint256 i = 0; i < assetIds.length; ++i) {
                _releaseTwin(assetIds[i], ref, detailsHash);
            }
        }
        emit ChangesConfirmed(customer, ref, deletions, assetIds);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator or the asset's customer; a change is open
    /// ({AgreementInvalidPending}). Emits {ChangeCancelled}.
    function cancelChange(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        Service storage s = _pending(assetId, Pending.Change);
        address customer = s.customer;
        if (caller != customer && caller != _operatorOf(s)) revert AgreementUnauthorized(caller);
        int256 credit = -int256(s.charge);
        (s.pending, s.charge) = (Pending.None, 0);
        _transition(assetId, _ACTIVE, ref, detailsHash);
        int256 balance = _accrue(customer, credit, 0, assetId, uint8(ChargeKind.ChangeReversal), 0, 0);
        emit ChangeCancelled(assetId, customer, ref, credit, balance);
    }

    /*//////////////////////////////////////////////////////////////
                           ACTIONS: DISCONNECT
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: the agreement serves the asset; nothing else is open on it
    /// ({AgreementInvalidPending}); `caller` is its customer, or the operator naming an invoice
    /// of that customer to the operator that is overdue right now (Issued, past its due date:
    /// {AgreementNotOverdue}); the twin is Active (the registry). Emits {DisconnectOrdered}.
    function orderDisconnect(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, uint256 overdueInvoiceId, bytes32 detailsHash) =
            abi.decode(params, (bytes32, uint256, bytes32));
        Service storage s = _known(assetId);
        if (s.flags & _BILATERAL != 0) revert AgreementBilateralTerms(s.customer);
        _orderDisconnect(caller, ref, s, assetId, overdueInvoiceId, detailsHash, _terms.disconnect);
    }

    /// @dev A disconnect of the served asset `assetId` (its service `s`, known to the caller) by
    /// `caller`, charged `charge`.
    function _orderDisconnect(
        address caller,
        bytes32 ref,
        Service storage s,
        bytes32 assetId,
        uint256 overdueInvoiceId,
        bytes32 detailsHash,
        int256 charge
    ) private {
        address customer = s.customer;
        address operator_ = _operatorOf(s);
        bool nonPayment;
        if (caller == customer) {
            overdueInvoiceId = 0;
        } else if (caller == operator_) {
            IEscrowPayment.InvoiceView memory inv = ESCROW.invoice(overdueInvoiceId);
            if (inv.payer != customer || inv.payee != operator_ || !ESCROW.isOverdue(overdueInvoiceId)) {
                revert AgreementNotOverdue(overdueInvoiceId, customer);
            }
            nonPayment = true;
        } else {
            revert AgreementUnauthorized(caller);
        }
        if (s.pending != Pending.None) revert AgreementInvalidPending(assetId, Pending.None, s.pending);
        uint8 flags = s.flags & _BILATERAL;
        (s.pending, s.flags, s.charge) = (Pending.Disconnect, nonPayment ? flags | _NON_PAYMENT : flags, int72(charge));
        _transition(assetId, _PENDING_DISCONNECT, ref, detailsHash);
        int256 balance = _accrue(customer, charge, 1, assetId, uint8(ChargeKind.Disconnect), 0, 0);
        emit DisconnectOrdered(assetId, customer, ref, caller, nonPayment, overdueInvoiceId, charge, balance);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: a disconnect is open ({AgreementInvalidPending}); `caller` is the
    /// operator, or the customer when it asked for the disconnect itself (not for
    /// non-payment); the twin is PendingDisconnect (the registry). Exactly the recorded charge
    /// is given back. Emits {DisconnectCancelled}.
    function cancelDisconnect(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        Service storage s = _pending(assetId, Pending.Disconnect);
        address customer = s.customer;
        uint8 flags = s.flags;
        if (caller != _operatorOf(s) && (caller != customer || flags & _NON_PAYMENT != 0)) {
            revert AgreementUnauthorized(caller);
        }
        int256 charge = -int256(s.charge);
        (s.pending, s.flags, s.charge) = (Pending.None, flags & _BILATERAL, 0);
        _transition(assetId, _ACTIVE, ref, detailsHash);
        int256 balance = _accrue(customer, charge, 0, assetId, uint8(ChargeKind.DisconnectReversal), 0, 0);
        emit DisconnectCancelled(assetId, customer, ref, charge, balance);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Final charges or refunds: the customer's running account (the disconnect tariff
    /// included) is billed at once: an invoice for a positive balance, a credit note for a
    /// negative one; the service ends (the customer's hold on the twin too). Requirements:
    /// `caller` is the operator; a disconnect is open; the twin is PendingDisconnect.
    /// Emits {DisconnectConfirmed} (+ {AccountBilled} when the balance was not zero).
    function confirmDisconnect(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        Service storage s = _pending(assetId, Pending.Disconnect);
        address operator_ = _onlyOperatorOf(caller, s);
        address customer = s.customer;
        _accrueRecurring(assetId, s, customer, ref); // prorated to this second
        delete _services[assetId]; // the service ends
        uint256 left = --_parties[customer].services;
        _transition(assetId, _INACTIVE, ref, detailsHash);
        (int256 amount, uint256 invoiceId) = _bill(customer, operator_, ref);
        _releaseTwin(assetId, ref, detailsHash);
        // the final disconnect: the customer's credit is paid out in tokens (or requested of the operator)
        if (left == 0) _executeInternal(_SETTLE_CREDIT, ref, abi.encode(customer, operator_, _terms.token));
        emit DisconnectConfirmed(assetId, customer, ref, invoiceId, amount);
    }

    /*//////////////////////////////////////////////////////////////
                          ACTIONS: BILLING, TERMS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator; the balance is not zero
    /// ({AgreementNothingToBill}). Emits {AccountBilled}.
    function billAccount(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (address customer,) = abi.decode(params, (address, bytes32));
        if (caller != _accountOperator(customer)) revert AgreementUnauthorized(caller);
        if (_accounts[customer].balance == 0) revert AgreementNothingToBill(customer);
        _bill(customer, caller, ref);
    }

    /// @inheritdoc IAgreementBilling
    function accrueRecurring(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        bytes32[] memory assetIds = abi.decode(params, (bytes32[]));
        uint256 n = _checkBatch(assetIds.length);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 assetId = assetIds[i];
            Service storage s = _known(assetId);
            _onlyOperatorOf(caller, s); // each service's own operator
            if (s.start == 0) revert AgreementNotStarted(assetId);
            _accrueRecurring(assetId, s, s.customer, ref);
        }
    }

    /// @inheritdoc IAgreementBilling
    function setMonthlyCharge(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        uint256 monthly = abi.decode(params, (uint256));
        if (monthly > uint256(uint72(type(int72).max))) revert AgreementInvalidTerm("monthly", int256(monthly));
        _monthly = uint72(monthly);
        emit MonthlyChargeSet(ref, monthly);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: a token; 1 to {MAX_PAYMENT_DAYS} payment days; installation and
    /// disconnect >= 0; every tariff fits 72 bits ({AgreementInvalidTerm}; a MACD tariff's field is
    /// `macd<k>`, k its {MacdKind}). Emits {TermsSet}.
    function setTerms(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        _setTerms(abi.decode(params, (Terms)), ref);
    }

    /*//////////////////////////////////////////////////////////////
                      ACTIONS: REGISTERED CUSTOMERS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `op` 0..4 ({AgreementUnknownOperation}); ops 1 and 4 a MACD kind
    /// ({AgreementUnknownKind}); op 4 a list of 1 to {MAX_BATCH} ({AgreementBatchInvalidSize}); the customer (named by the
    /// installation, else the asset's, whose service must be bilateral) is registered
    /// ({AgreementInvalidCustomer}); the charge fits the flow (installation and disconnect >= 0,
    /// int72; a credit only stated by the operator: {AgreementInvalidTerm}); with a
    /// signature: `charge <= maxCharge` ({AgreementChargeAboveConsent}) and the registry's
    /// `useConsent` (submitted by the customer's operator, deadline, unused nonce, the
    /// customer's key over exactly this action, asset, kind and ceiling); without one `caller`
    /// is the customer or its operator ({AgreementUnauthorized}); op 3 (the monthly charge)
    /// always needs the consent; then the flow's own rules.
    /// Emits the flow's event (its actor is the customer when it consented).
    function actFor(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        Act memory a;
        (a.op, a.inner, a.charge, a.maxCharge, a.nonce, a.deadline, a.signature) =
            abi.decode(params, (uint8, bytes, int256, int256, uint256, uint64, bytes));
        bytes32 action;
        if (a.op == 0) {
            (a.assetId, a.customer, a.detailsHash) = abi.decode(a.inner, (bytes32, address, bytes32));
            action = _REQUEST_INSTALLATION;
        } else if (a.op == 1) {
            (a.kind, a.assetId, a.detailsHash) = abi.decode(a.inner, (uint8, bytes32, bytes32));
            action = _ORDER_CHANGE;
        } else if (a.op == 2) {
            (a.assetId, a.overdue, a.detailsHash) = abi.decode(a.inner, (bytes32, uint256, bytes32));
            action = _ORDER_DISCONNECT;
        } else if (a.op == 3) {
            a.assetId = abi.decode(a.inner, (bytes32));
            action = _RECURRING_CHARGE;
        } else if (a.op == 4) {
            (a.kind, a.assetIds, a.detailsHash) = abi.decode(a.inner, (uint8, bytes32[], bytes32));
            _checkBatch(a.assetIds.length);
            a.assetId = a.assetIds[0]; // names the customer (the batch is of one customer)
            action = _ORDER_CHANGES;
        } else {
            revert AgreementUnknownOperation(a.op);
        }
        if ((a.op == 1 || a.op == 4) && a.kind >= MACD_KINDS) revert AgreementUnknownKind(a.kind);
        if (a.op != 0) {
            Service storage s = _known(a.assetId);
            a.customer = s.customer;
            // a service opened on the public default terms stays on them (plain entry points)
            if (s.flags & _BILATERAL == 0) revert AgreementInvalidCustomer(a.customer);
        }
        address operator_ = CUSTOMERS.operatorOf(a.customer);
        if (operator_ == address(0)) revert AgreementInvalidCustomer(a.customer);
        int256 charge = a.charge;
        // a credit (< 0, MACD only) is stated by the operator, never by the customer for itself
        int256 least = (a.op == 1 || a.op == 4) && caller != a.customer ? type(int72).min : int256(0);
        if (charge > type(int72).max || charge < least) revert AgreementInvalidTerm("charge", charge);
        address actor = caller;
        if (a.signature.length != 0) {
            if (charge > a.maxCharge) revert AgreementChargeAboveConsent(charge, a.maxCharge);
            // a bulk order's consent covers exactly its list: subject keccak256(abi.encodePacked(assetIds))
            bytes32 subject = a.op == 4 ? keccak256(abi.encodePacked(a.assetIds)) : a.assetId;
            ICustomerRegistry.Consent memory consent = ICustomerRegistry.Consent(
                a.customer, caller, action, subject, a.kind, a.maxCharge, a.nonce, a.deadline
            );
            _executeInternal(_USE_CONSENT, ref, abi.encode(consent, a.signature));
            actor = a.customer;
        } else if (a.op == 3 || (caller != a.customer && caller != operator_)) {
            // a monthly charge is set by both parties: the operator files the customer's consent
            revert AgreementUnauthorized(caller);
        }
        if (a.op == 0) {
            uint8 mode = caller == operator_ ? _BILATERAL | _BY_OPERATOR : _BILATERAL;
            _requestInstallation(a, actor, operator_, mode, ref);
        } else if (a.op == 1) {
            _orderChange(actor, ref, a.kind, _services[a.assetId], a.assetId, a.detailsHash, charge);
        } else if (a.op == 2) {
            _orderDisconnect(actor, ref, _services[a.assetId], a.assetId, a.overdue, a.detailsHash, charge);
        } else if (a.op == 3) {
            _setRecurring(a.assetId, a.customer, charge, ref);
        } else {
            _orderChangesFor(actor, ref, a, charge);
        }
    }

    /// @dev A registered customer's bulk MACD order ({actFor} op 4): `a.kind` on each of
    /// `a.assetIds` (1 to {MAX_BATCH}, all the customer's bilateral services, nothing open, every
    /// twin Active), each charged the unit `charge`; the total (`charge` x n) accrues once as one
    /// line whose asset is the list's hash. The customer's operator is fixed for its life, so its
    /// services all have the operator {actFor} checked. Emits {ChangesOrdered} (requester `actor`).
    function _orderChangesFor(address actor, bytes32 ref, Act memory a, int256 charge) private {
        bytes32[] memory assetIds = a.assetIds;
        uint256 n = assetIds.length;
        address customer = _orderBatch(assetIds, a.kind, int72(charge), _BILATERAL);
        _executeInternal(_TRANSITION_BATCH, ref, abi.encode(_ACTIVE, _PENDING_CHANGE, assetIds, a.detailsHash));
        int256 total = charge * int256(n);
        int256 balance =
            _accrue(customer, total, n, keccak256(abi.encodePacked(assetIds)), _MACD_LINE + a.kind, 0, 0);
        emit ChangesOrdered(customer, ref, a.kind, actor, total, balance, assetIds);
    }

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorAgreement
    function operator() external view returns (address) {
        return _OPERATOR;
    }

    /// @inheritdoc IOperatorAgreement
    function operatorOf(address customer) external view returns (address) {
        return _accountOperator(customer);
    }

    /// @inheritdoc IOperatorAgreement
    function terms() external view returns (Terms memory) {
        return _terms;
    }

    /// @inheritdoc IOperatorAgreement
    function tariff(MacdKind kind) external view returns (int256) {
        return _tariff(uint8(kind));
    }

    /// @inheritdoc IOperatorAgreement
    function serviceOf(bytes32 assetId) external view returns (ServiceView memory v) {
        Service storage s = _services[assetId];
        Pending pending = s.pending;
        uint8 flags = s.flags;
        (v.customer, v.installInvoice, v.nonPayment) = (s.customer, s.installInvoice, flags & _NON_PAYMENT != 0);
        v.pendingDelete = pending == Pending.Change && s.kind == uint8(MacdKind.Delete);
        (v.pending, v.kind, v.charge) = (pending, s.kind, s.charge);
        (v.bilateral, v.operator) = (flags & _BILATERAL != 0, s.customer == address(0) ? address(0) : _operatorOf(s));
    }

    /// @inheritdoc IOperatorAgreement
    function accountOf(address customer) external view returns (AccountView memory) {
        Account storage a = _accounts[customer];
        return AccountView(a.balance, a.period, a.lines, a.openedAt);
    }

    /// @inheritdoc IAgreementBilling
    function monthlyCharge(address customer, bytes32 assetId) external view returns (uint256) {
        return _monthlyRate(customer, assetId);
    }

    /// @inheritdoc IAgreementBilling
    function recurringOf(bytes32 assetId) external view returns (RecurringView memory v) {
        Service storage s = _services[assetId];
        (v.start, v.billedTo, v.monthly) = (s.start, s.billedTo, s.monthly);
        if (v.start != 0) v.accrued = _charged(s.monthly, s.start, s.billedTo);
    }

    /// @inheritdoc IAgreementBilling
    function linesDigest(address customer) external view returns (bytes32) {
        return _digests[customer];
    }

    /// @inheritdoc IAgreementBilling
    function serviceCount(address customer) external view returns (uint256) {
        return _parties[customer].services;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev The operator `customer`'s running account is kept with: the one its bilateral services
    /// are with; the default operator once it has had a service on the default terms; before any
    /// service, the registered operator, else the default one.
    function _accountOperator(address customer) private view returns (address operator_) {
        operator_ = _parties[customer].accountOperator;
        if (operator_ != address(0)) return operator_;
        if (_accounts[customer].period != 0) return _OPERATOR;
        operator_ = CUSTOMERS.operatorOf(customer);
        if (operator_ == address(0)) operator_ = _OPERATOR;
    }

    /// @dev A bilateral installation of `customer` by `operator_` keeps its running account with
    /// `operator_`: an account another operator keeps (the default operator's services of a
    /// customer registered since) passes over only when nothing is left on it (no service, a zero
    /// balance), else {AgreementInvalidCustomer}.
    function _claimAccount(address customer, address operator_) private {
        Party storage p = _parties[customer];
        address holder = p.accountOperator;
        if (holder == operator_) return;
        if (holder == address(0) && _accounts[customer].period != 0) holder = _OPERATOR;
        if (holder == operator_) return;
        if (holder != address(0) && (p.services != 0 || _accounts[customer].balance != 0)) {
            revert AgreementInvalidCustomer(customer);
        }
        p.accountOperator = operator_;
    }

    /// @dev The monthly charge of a service of `customer` on `assetId`: a registered customer's
    /// is the one its operator and it agreed for that service ({actFor} op 3, 0 until then);
    /// everyone else's is the agreement's one rate ({setMonthlyCharge}).
    function _monthlyRate(address customer, bytes32 assetId) private view returns (uint72) {
        return CUSTOMERS.operatorOf(customer) != address(0) ? _services[assetId].monthly : _monthly;
    }

    /// @dev A bilateral service's monthly charge agreed by both parties: what ran at the old rate
    /// is accrued up to now and the new rate counts from now (its `start`).
    function _setRecurring(bytes32 assetId, address customer, int256 monthly, bytes32 ref) private {
        Service storage s = _services[assetId];
        if (s.start != 0) {
            _accrueRecurring(assetId, s, customer, ref);
            (s.start, s.billedTo) = (uint40(block.timestamp), uint40(block.timestamp));
        }
        s.monthly = uint72(uint256(monthly));
        emit RecurringChargeAgreed(assetId, customer, ref, uint256(monthly));
    }

    /// @dev What `monthly` per {MONTH} comes to from `start` to `t`, floored (to the unit).
    function _charged(uint256 monthly, uint256 start, uint256 t) private pure returns (uint256) {
        return (monthly * (t - start)) / MONTH;
    }

    /// @dev Accrues `s`'s recurring charge from its billed-to time up to now (a line when not 0).
    function _accrueRecurring(bytes32 assetId, Service storage s, address customer, bytes32 ref) private {
        uint256 start = s.start;
        if (start == 0) return;
        (uint256 from, uint256 monthly) = (s.billedTo, s.monthly);
        if (from == block.timestamp) return;
        s.billedTo = uint40(block.timestamp);
        int256 amount = int256(_charged(monthly, start, block.timestamp) - _charged(monthly, start, from));
        if (amount == 0) return;
        int256 balance = _accrue(customer, amount, 1, assetId, _RECURRING, uint64(from), uint64(block.timestamp));
        emit RecurringAccrued(assetId, customer, ref, uint64(from), uint64(block.timestamp), amount, balance);
    }

    function _setTerms(Terms memory t, bytes32 ref) private {
        if (t.token == address(0)) revert AgreementInvalidTerm("token", 0);
        if (t.paymentDays == 0 || t.paymentDays > MAX_PAYMENT_DAYS) {
            revert AgreementInvalidTerm("paymentDays", int256(uint256(t.paymentDays)));
        }
        if (t.installation < 0) revert AgreementInvalidTerm("installation", t.installation);
        if (t.disconnect < 0) revert AgreementInvalidTerm("disconnect", t.disconnect);
        for (uint256 k = 0; k < MACD_KINDS; ++k) {
            // the field names the kind: "macd0" (Move), "macd1"... (its fifth byte is '0' + k)
            _checkTariff(bytes32(uint256(bytes32("macd0")) + (k << 216)), t.macd[k]);
        }
        _checkTariff("disconnect", t.disconnect);
        _checkTariff("installation", t.installation);
        _terms = t;
        emit TermsSet(ref, t);
    }

    /// @dev A tariff must fit the per-asset charge record (int72).
    function _checkTariff(bytes32 field, int96 value) private pure {
        if (value > type(int72).max || value < type(int72).min) revert AgreementInvalidTerm(field, value);
    }

    /// @dev The tariff of MACD `kind`; reverts with {AgreementUnknownKind}.
    function _tariff(uint8 kind) private view returns (int256) {
        if (kind >= MACD_KINDS) revert AgreementUnknownKind(kind);
        return _terms.macd[kind];
    }

    /// @dev Opens `customer`'s running account (and its period digest) at its first installation.
    function _openAccount(address customer) private {
        Account storage acc = _accounts[customer];
        if (acc.period == 0) {
            (acc.period, acc.openedAt) = (1, uint64(block.timestamp));
            _digests[customer] = keccak256(abi.encode(customer, uint32(1)));
        }
    }

    /// @dev Adds `charge` (`lines` lines) to `customer`'s running account and the line item
    /// (`lineAsset`, `kind`, `from`, `to`, `charge`) to its period digest; returns the balance.
    function _accrue(
        address customer,
        int256 charge,
        uint256 lines,
        bytes32 lineAsset,
        uint8 kind,
        uint64 from,
        uint64 to
    ) private returns (int256 balance) {
        Account storage acc = _accounts[customer];
        balance = acc.balance + charge;
        (acc.balance, acc.lines) = (SafeCast.toInt128(balance), acc.lines + SafeCast.toUint32(lines));
        _digests[customer] = keccak256(abi.encode(_digests[customer], lineAsset, kind, from, to, charge));
    }

    /// @dev Closes `customer`'s period: invoice (balance > 0), credit note (< 0) or nothing.
    function _bill(address customer, address operator_, bytes32 ref) private returns (int256 balance, uint256 invoiceId) {
        Account storage acc = _accounts[customer];
        balance = acc.balance;
        uint32 period = acc.period;
        if (balance == 0) return (0, 0);
        bytes32 subject = _digests[customer]; // the bill commits to its lines
        emit PeriodClosed(customer, period, ref, subject, acc.lines);
        _digests[customer] = keccak256(abi.encode(customer, period + 1));
        Terms storage t = _terms;
        if (balance > 0) {
            invoiceId = _issueInvoice(customer, operator_, uint256(balance), false, subject, ref);
        } else {
            _executeInternal(
                _ISSUE_CREDIT_NOTE, ref, abi.encode(customer, operator_, t.token, uint256(-balance), subject)
            );
        }
        (acc.balance, acc.period, acc.lines, acc.openedAt) = (0, period + 1, 0, uint64(block.timestamp));
        emit AccountBilled(customer, ref, period, balance, invoiceId);
    }

    function _issueInvoice(address customer, address payee, uint256 amount, bool hold, bytes32 subject, bytes32 ref)
        private
        returns (uint256)
    {
        Terms storage t = _terms;
        uint64 due = uint64(block.timestamp) + uint64(t.paymentDays) * 1 days;
        bytes memory out = _executeInternal(
            _ISSUE_INVOICE, ref, abi.encode(customer, payee, t.token, amount, due, hold, subject)
        );
        return abi.decode(out, (uint256));
    }

    /// @dev A batch order: 1 to {MAX_BATCH} assets of one customer, nothing open on any, every
    /// service bilateral iff `bilateral` ({_BILATERAL} or 0: a bilateral one in a default-terms
    /// batch {AgreementBilateralTerms}, a default-terms one in a bilateral batch
    /// {AgreementInvalidCustomer}); each recorded as a pending change of `kind` charged `charge`.
    /// Returns the customer.
    function _orderBatch(bytes32[] memory assetIds, uint8 kind, int72 charge, uint8 bilateral)
        private
        returns (address customer)
    {
        uint256 n = _checkBatch(assetIds.length);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 assetId = assetIds[i];
            Service storage s = _services[assetId];
            customer = _sameCustomer(s, assetId, i, customer);
            if (s.flags & _BILATERAL != bilateral) {
                if (bilateral == 0) revert AgreementBilateralTerms(customer);
                revert AgreementInvalidCustomer(customer);
            }
            if (s.pending != Pending.None) revert AgreementInvalidPending(assetId, Pending.None, s.pending);
            (s.pending, s.kind, s.charge) = (Pending.Change, kind, charge);
        }
    }

    /// @dev A batch confirmation: each asset's open change must be a deletion iff `deletions`.
    function _confirmBatch(address caller, bytes32[] memory assetIds, bool deletions, bytes32 ref)
        private
        returns (address customer)
    {
        uint256 n = _checkBatch(assetIds.length);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 assetId = assetIds[i];
            Service storage s = _services[assetId];
            customer = _sameCustomer(s, assetId, i, customer);
            _onlyOperatorOf(caller, s);
            if (s.pending != Pending.Change) revert AgreementInvalidPending(assetId, Pending.Change, s.pending);
            bool deletion = s.kind == uint8(MacdKind.Delete);
            if (deletion != deletions) revert AgreementDeletionMismatch(assetId, deletion);
            if (deletion) {
                _accrueRecurring(assetId, s, customer, ref);
                delete _services[assetId]; // a confirmed deletion ends the service
            } else {
                s.pending = Pending.None;
            }
        }
        if (deletions) _parties[customer].services -= uint96(n);
    }

    function _checkBatch(uint256 n) private pure returns (uint256) {
        if (n == 0 || n > MAX_BATCH) revert AgreementBatchInvalidSize(n, MAX_BATCH);
        return n;
    }

    /// @dev The customer of the `i`-th asset of a batch, which must be the batch's one customer.
    function _sameCustomer(Service storage s, bytes32 assetId, uint256 i, address customer)
        private
        view
        returns (address)
    {
        address c = s.customer;
        if (i == 0) {
            if (c == address(0)) revert AgreementUnknownService(assetId);
            return c;
        }
        if (c != customer) revert AgreementMixedCustomers(assetId, c);
        return customer;
    }

    /// @dev Whether `assetId` may get an installation for `customer` requested by `caller`:
    /// not another customer's twin; a customer asking for itself only for a twin assigned to
    /// it; Planned or Inactive (moved), PendingInstallation or Delivered (already scheduled,
    /// e.g. by its order line: stays put), or held Planned on an order line.
    function _checkInstallable(
        bytes32 assetId,
        Service storage s,
        IAssetRegistry.AssetView memory twin,
        bool byOperator,
        address customer
    ) private view {
        address holder = twin.customer;
        if (holder == address(0) && s.customer != address(0)) holder = s.customer;
        if (holder != address(0) ? holder != customer : !byOperator) {
            revert AgreementNotCustomerAsset(assetId, customer, holder);
        }
        uint8 state = uint8(twin.state);
        if (state == _PLANNED || state == _INACTIVE || state == _PENDING_INSTALLATION || state == _DELIVERED) return;
        uint256 open = s.installInvoice;
        if (open != 0 && !_isOpen(open)) open = 0;
        revert AgreementDuplicateInstallation(assetId, state, open);
    }

    /// @dev The twin side of an installation request: checked ({_checkInstallable}), assigned to
    /// `customer` if it had no customer, moved to PendingInstallation unless already scheduled
    /// or held by an open order line.
    function _schedule(
        bytes32 assetId,
        Service storage s,
        bool byOperator,
        address customer,
        bytes32 ref,
        bytes32 detailsHash
    ) private {
        IAssetRegistry.AssetView memory twin = REGISTRY.getAsset(assetId);
        _checkInstallable(assetId, s, twin, byOperator, customer);
        // the agreement now serves this customer on the twin: only its flows release it
        if (!twin.served) _assignCustomer(assetId, _SET_CUSTOMER, customer, ref, detailsHash);
        uint8 state = uint8(twin.state);
        if (!twin.onLine && (state == _PLANNED || state == _INACTIVE)) {
            _transition(assetId, _PENDING_INSTALLATION, ref, detailsHash);
        }
    }

    /// @dev The twin's customer cleared (after the service record is gone: effects before interactions).
    function _releaseTwin(bytes32 assetId, bytes32 ref, bytes32 detailsHash) private {
        _assignCustomer(assetId, _CLEAR_CUSTOMER, address(0), ref, detailsHash);
    }

    /// @dev The money of a withdrawn installation back to `customer`: an open invoice voided
    /// (cancelled, or refunded with its credit), a released one turned into a credit note.
    function _giveBack(uint256 invoiceId, address customer, address operator_, bytes32 assetId, bytes32 ref) private {
        if (invoiceId == 0) return;
        IEscrowPayment.InvoiceView memory inv = ESCROW.invoice(invoiceId);
        if (inv.status == IEscrowPayment.Status.Issued || inv.status == IEscrowPayment.Status.Funded) {
            _executeInternal(_VOID_INVOICE, ref, abi.encode(invoiceId));
        } else if (inv.status == IEscrowPayment.Status.Released) {
            _executeInternal(_ISSUE_CREDIT_NOTE, ref, abi.encode(customer, operator_, inv.token, inv.amount, assetId));
        }
    }

    function _transition(bytes32 assetId, uint8 to, bytes32 ref, bytes32 detailsHash) private {
        _executeInternal(_TRANSITION, ref, abi.encode(assetId, to, detailsHash));
    }

    function _assignCustomer(bytes32 assetId, uint8 op, address customer, bytes32 ref, bytes32 detailsHash) private {
        _executeInternal(_ASSIGN_PARTIES, ref, abi.encode(assetId, op, customer, address(0), detailsHash));
    }

    function _isOpen(uint256 invoiceId) private view returns (bool) {
        IEscrowPayment.Status st = ESCROW.statusOf(invoiceId);
        return st == IEscrowPayment.Status.Issued || st == IEscrowPayment.Status.Funded;
    }

    function _known(bytes32 assetId) private view returns (Service storage s) {
        s = _services[assetId];
        if (s.customer == address(0)) revert AgreementUnknownService(assetId);
    }

    /// @dev The served asset `assetId` with `expected` open.
    function _pending(bytes32 assetId, Pending expected) private view returns (Service storage s) {
        s = _known(assetId);
        if (s.pending != expected) revert AgreementInvalidPending(assetId, expected, s.pending);
    }

    /// @dev The operator serving `s`: the default operator, or the bilateral customer's own.
    function _operatorOf(Service storage s) private view returns (address) {
        return s.flags & _BILATERAL != 0 ? s.operator : _OPERATOR;
    }

    /// @dev Reverts with {AgreementUnauthorized} unless `caller` is the operator serving `s`.
    function _onlyOperatorOf(address caller, Service storage s) private view returns (address operator_) {
        operator_ = _operatorOf(s);
        if (caller != operator_) revert AgreementUnauthorized(caller);
    }
}
