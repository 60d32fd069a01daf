// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAssetRegistry} from "./interfaces/IAssetRegistry.sol";
import {IConstitution} from "./interfaces/IConstitution.sol";
import {IEscrowPayment} from "./interfaces/IEscrowPayment.sol";
import {IOperatorAgreement} from "./interfaces/IOperatorAgreement.sol";
import {ConstitutionModule} from "./modules/ConstitutionModule.sol";

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
/// - Per asset one word: customer, last installation invoice, pending-delete and non-payment
///   flags. A MACD move/add/change only reads it (a cold SLOAD); a delete also writes it.
/// - The twins move through the AssetRegistry's Internal `transition` (one asset) and
///   `transitionBatch` (many); the registry enforces its table, so "the current state is
///   evaluated" by the registry in the hot path rather than by an extra view call here.
/// - Transactions loop only over their calldata arrays (at most {MAX_BATCH}).
contract OperatorAgreement is IOperatorAgreement, ConstitutionModule {
    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev One word per asset.
    struct Service {
        address customer;
        uint64 installInvoice;
        bool pendingDelete;
        bool nonPayment;
        bool installing;
    }

    /// @dev One word per customer (never zero once the customer has had an installation).
    struct Account {
        int128 balance;
        uint32 period;
        uint32 lines;
        uint64 openedAt;
    }

    /// @inheritdoc IOperatorAgreement
    uint256 public constant MAX_BATCH = 256;

    bytes32 private constant _TRANSITION = keccak256("transition");
    bytes32 private constant _TRANSITION_BATCH = keccak256("transitionBatch");
    bytes32 private constant _ISSUE_INVOICE = keccak256("issueInvoice");
    bytes32 private constant _CONFIRM_INVOICE = keccak256("confirmInvoice");
    bytes32 private constant _VOID_INVOICE = keccak256("voidInvoice");
    bytes32 private constant _ISSUE_CREDIT_NOTE = keccak256("issueCreditNote");

    /// @dev AssetLifecycle states used here (docs/assets.md).
    uint8 private constant _PLANNED = 1;
    uint8 private constant _PENDING_INSTALLATION = 2;
    uint8 private constant _DELIVERED = 3;
    uint8 private constant _ACTIVE = 4;
    uint8 private constant _PENDING_CHANGE = 5;
    uint8 private constant _PENDING_DISCONNECT = 6;
    uint8 private constant _INACTIVE = 7;
    uint8 private constant _RECOVERING = 8;

    /// @notice The digital twins.
    IAssetRegistry public immutable REGISTRY;
    /// @notice The escrow that holds the invoices.
    IEscrowPayment public immutable ESCROW;
    /// @dev The operator (payee of every invoice).
    address private immutable _OPERATOR;

    Terms private _terms;
    mapping(bytes32 assetId => Service) private _services;
    mapping(address customer => Account) private _accounts;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param constitution The Constitution whose actions this module implements.
    /// @param registry The AssetRegistry (its `transition` / `transitionBatch` Internal actions).
    /// @param escrow The EscrowPayment (its Internal invoice actions).
    /// @param operator_ The operator member: payee of the invoices, confirms the work.
    /// @param initialTerms The terms at deploy (from consortium.yaml); later only {setTerms}.
    constructor(
        IConstitution constitution,
        IAssetRegistry registry,
        IEscrowPayment escrow,
        address operator_,
        Terms memory initialTerms
    ) ConstitutionModule(constitution) {
        if (operator_ == address(0)) revert AgreementUnauthorized(operator_);
        (REGISTRY, ESCROW, _OPERATOR) = (registry, escrow, operator_);
        _setTerms(initialTerms, bytes32(0));
    }

    /*//////////////////////////////////////////////////////////////
                          ACTIONS: INSTALLATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator or `customer` ({AgreementUnauthorized});
    /// `customer` is an active member other than the operator ({AgreementInvalidCustomer}); the
    /// twin is Planned or Inactive and no installation invoice of it is open
    /// ({AgreementDuplicateInstallation}). Emits {InstallationRequested} (+ registry and
    /// escrow events).
    function requestInstallation(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, address customer, bytes32 detailsHash) = abi.decode(params, (bytes32, address, bytes32));
        if (caller != _OPERATOR && caller != customer) revert AgreementUnauthorized(caller);
        if (customer == _OPERATOR || !CONSTITUTION.isActiveMember(customer)) revert AgreementInvalidCustomer(customer);
        Service storage s = _services[assetId];
        if (!_checkInstallable(assetId, s)) _transition(assetId, _PENDING_INSTALLATION, ref, detailsHash);
        (uint256 invoiceId, uint256 charge) = _installationInvoice(customer, assetId, ref);
        (s.customer, s.installInvoice, s.pendingDelete, s.nonPayment, s.installing) =
            (customer, uint64(invoiceId), false, false, true);
        Account storage acc = _accounts[customer];
        if (acc.period == 0) (acc.period, acc.openedAt) = (1, uint64(block.timestamp));
        emit InstallationRequested(assetId, customer, ref, caller, invoiceId, charge);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator; the agreement requested the installation
    /// ({AgreementUnknownService}); its invoice is Funded ({AgreementNotFunded}; a free
    /// installation has none); the twin is Delivered (or Active already) ({AgreementInvalidAssetState});
    /// a serial is bound (the registry's AssetSerialRequired). Emits {InstallationConfirmed}.
    function confirmInstallation(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        _onlyOperator(caller);
        Service storage s = _known(assetId);
        uint256 invoiceId = s.installInvoice;
        if (invoiceId != 0) {
            uint8 status = uint8(ESCROW.statusOf(invoiceId));
            if (status != uint8(IEscrowPayment.Status.Funded)) revert AgreementNotFunded(assetId, invoiceId, status);
        }
        uint8 state = uint8(REGISTRY.stateOf(assetId));
        if (state == _DELIVERED) _transition(assetId, _ACTIVE, ref, detailsHash);
        else if (state != _ACTIVE) revert AgreementInvalidAssetState(assetId, state);
        if (invoiceId != 0) _executeInternal(_CONFIRM_INVOICE, ref, abi.encode(invoiceId));
        s.installing = false;
        emit InstallationConfirmed(assetId, s.customer, ref, invoiceId);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator or the asset's customer; the twin is
    /// PendingInstallation or Delivered ({AgreementInvalidAssetState}). An open invoice is
    /// cancelled (Issued) or refunded (Funded). Emits {InstallationWithdrawn}.
    function withdrawInstallation(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        Service storage s = _known(assetId);
        address customer = s.customer;
        if (caller != _OPERATOR && caller != customer) revert AgreementUnauthorized(caller);
        uint8 state = uint8(REGISTRY.stateOf(assetId));
        uint8 to;
        if (state == _PENDING_INSTALLATION) to = _PLANNED;
        else if (state == _DELIVERED) to = _RECOVERING;
        else revert AgreementInvalidAssetState(assetId, state);
        _transition(assetId, to, ref, detailsHash);
        uint256 invoiceId = s.installInvoice;
        if (invoiceId != 0 && _isOpen(invoiceId)) _executeInternal(_VOID_INVOICE, ref, abi.encode(invoiceId));
        s.installing = false;
        emit InstallationWithdrawn(assetId, customer, ref, caller, to);
    }

    /*//////////////////////////////////////////////////////////////
                              ACTIONS: MACD
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorAgreement
    /// @dev The lean path: one read of the asset word (a write only for a delete), one
    /// read-modify-write of the account word, the registry's Internal `transition`.
    /// Requirements: `kind` ({AgreementUnknownKind}); the agreement serves the asset
    /// ({AgreementUnknownService}); `caller` is the operator or its customer; the twin is Active
    /// (the registry's AssetInvalidTransition). Emits {ChangeOrdered}.
    function orderChange(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (uint8 kind, bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (uint8, bytes32, bytes32));
        int256 charge = _tariff(kind);
        Service storage s = _known(assetId);
        address customer = s.customer;
        if (caller != _OPERATOR && caller != customer) revert AgreementUnauthorized(caller);
        if (kind == uint8(MacdKind.Delete)) s.pendingDelete = true;
        _transition(assetId, _PENDING_CHANGE, ref, detailsHash);
        int256 balance = _accrue(customer, charge, 1);
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
        address customer = _batchCustomer(assetIds, kind == uint8(MacdKind.Delete), true);
        if (caller != _OPERATOR && caller != customer) revert AgreementUnauthorized(caller);
        _executeInternal(_TRANSITION_BATCH, ref, abi.encode(_ACTIVE, _PENDING_CHANGE, assetIds, detailsHash));
        int256 charge = tariff_ * int256(n);
        int256 balance = _accrue(customer, charge, n);
        emit ChangesOrdered(customer, ref, kind, caller, charge, balance, assetIds);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator; the agreement serves the asset; the twin is
    /// PendingChange (the registry). Emits {ChangeConfirmed}.
    function confirmChange(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        _onlyOperator(caller);
        Service storage s = _known(assetId);
        bool deleted = s.pendingDelete;
        if (deleted) s.pendingDelete = false;
        _transition(assetId, deleted ? _INACTIVE : _ACTIVE, ref, detailsHash);
        emit ChangeConfirmed(assetId, s.customer, ref, deleted);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator; 1 to {MAX_BATCH} assets of one customer;
    /// each one's pending change is a deletion iff `deletions` ({AgreementDeletionMismatch});
    /// every twin PendingChange (the registry). Emits {ChangesConfirmed}.
    function confirmChanges(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bool deletions, bytes32[] memory assetIds, bytes32 detailsHash) =
            abi.decode(params, (bool, bytes32[], bytes32));
        _onlyOperator(caller);
        address customer = _batchCustomer(assetIds, deletions, false);
        uint8 to = deletions ? _INACTIVE : _ACTIVE;
        _executeInternal(_TRANSITION_BATCH, ref, abi.encode(_PENDING_CHANGE, to, assetIds, detailsHash));
        emit ChangesConfirmed(customer, ref, deletions, assetIds);
    }

    /*//////////////////////////////////////////////////////////////
                           ACTIONS: DISCONNECT
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: the agreement serves the asset; `caller` is its customer, or the
    /// operator naming an invoice of that customer to the operator that is overdue right now
    /// (Issued, past its due date: {AgreementNotOverdue}); the twin is Active (the registry).
    /// Emits {DisconnectOrdered}.
    function orderDisconnect(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, uint256 overdueInvoiceId, bytes32 detailsHash) =
            abi.decode(params, (bytes32, uint256, bytes32));
        Service storage s = _known(assetId);
        address customer = s.customer;
        bool nonPayment;
        if (caller == customer) {
            overdueInvoiceId = 0;
        } else if (caller == _OPERATOR) {
            IEscrowPayment.InvoiceView memory inv = ESCROW.invoice(overdueInvoiceId);
            if (inv.payer != customer || inv.payee != _OPERATOR || !ESCROW.isOverdue(overdueInvoiceId)) {
                revert AgreementNotOverdue(overdueInvoiceId, customer);
            }
            nonPayment = true;
        } else {
            revert AgreementUnauthorized(caller);
        }
        s.nonPayment = nonPayment;
        _transition(assetId, _PENDING_DISCONNECT, ref, detailsHash);
        int256 charge = _terms.disconnect;
        _accrue(customer, charge, 1);
        emit DisconnectOrdered(assetId, customer, ref, caller, nonPayment, overdueInvoiceId, charge);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: `caller` is the operator, or the customer when it asked for the
    /// disconnect itself (not for non-payment); the twin is PendingDisconnect (the registry).
    /// Emits {DisconnectCancelled}.
    function cancelDisconnect(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        Service storage s = _known(assetId);
        address customer = s.customer;
        if (caller != _OPERATOR && (caller != customer || s.nonPayment)) revert AgreementUnauthorized(caller);
        s.nonPayment = false;
        _transition(assetId, _ACTIVE, ref, detailsHash);
        int256 charge = -int256(_terms.disconnect);
        _accrue(customer, charge, 1);
        emit DisconnectCancelled(assetId, customer, ref, charge);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Final charges or refunds: the customer's running account (the disconnect tariff
    /// included) is billed at once: an invoice for a positive balance, a credit note for a
    /// negative one. Requirements: `caller` is the operator; the twin is PendingDisconnect.
    /// Emits {DisconnectConfirmed} (+ {AccountBilled} when the balance was not zero).
    function confirmDisconnect(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 assetId, bytes32 detailsHash) = abi.decode(params, (bytes32, bytes32));
        _onlyOperator(caller);
        Service storage s = _known(assetId);
        address customer = s.customer;
        s.nonPayment = false;
        _transition(assetId, _INACTIVE, ref, detailsHash);
        (int256 amount, uint256 invoiceId) = _bill(customer, ref);
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
        _onlyOperator(caller);
        if (_accounts[customer].balance == 0) revert AgreementNothingToBill(customer);
        _bill(customer, ref);
    }

    /// @inheritdoc IOperatorAgreement
    /// @dev Requirements: a token; installation >= 0 ({AgreementInvalidTerms}). Emits {TermsSet}.
    function setTerms(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        _setTerms(abi.decode(params, (Terms)), ref);
    }

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorAgreement
    function operator() external view returns (address) {
        return _OPERATOR;
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
    function serviceOf(bytes32 assetId) external view returns (ServiceView memory) {
        Service storage s = _services[assetId];
        return ServiceView(s.customer, s.installInvoice, s.pendingDelete, s.nonPayment);
    }

    /// @inheritdoc IOperatorAgreement
    function accountOf(address customer) external view returns (AccountView memory) {
        Account storage a = _accounts[customer];
        return AccountView(a.balance, a.period, a.lines, a.openedAt);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _setTerms(Terms memory t, bytes32 ref) private {
        if (t.token == address(0) || t.installation < 0) revert AgreementInvalidTerms();
        _terms = t;
        emit TermsSet(ref, t);
    }

    /// @dev The tariff of MACD `kind`; reverts with {AgreementUnknownKind}.
    function _tariff(uint8 kind) private view returns (int256) {
        if (kind == uint8(MacdKind.Move)) return _terms.move;
        if (kind == uint8(MacdKind.Add)) return _terms.add;
        if (kind == uint8(MacdKind.Change)) return _terms.change;
        if (kind == uint8(MacdKind.Delete)) return _terms.deletion;
        revert AgreementUnknownKind(kind);
    }

    /// @dev Adds `charge` (`lines` lines) to `customer`'s running account; returns the balance.
    function _accrue(address customer, int256 charge, uint256 lines) private returns (int256 balance) {
        Account storage acc = _accounts[customer];
        balance = acc.balance + charge;
        (acc.balance, acc.lines) = (int128(balance), acc.lines + uint32(lines));
    }

    /// @dev Closes `customer`'s period: invoice (balance > 0), credit note (< 0) or nothing.
    function _bill(address customer, bytes32 ref) private returns (int256 balance, uint256 invoiceId) {
        Account storage acc = _accounts[customer];
        balance = acc.balance;
        uint32 period = acc.period;
        if (balance == 0) return (0, 0);
        bytes32 subject = keccak256(abi.encode(customer, period));
        Terms storage t = _terms;
        if (balance > 0) {
            invoiceId = _issueInvoice(customer, t.token, uint256(balance), t.paymentDays, false, subject, ref);
        } else {
            _executeInternal(
                _ISSUE_CREDIT_NOTE, ref, abi.encode(customer, _OPERATOR, t.token, uint256(-balance), subject)
            );
        }
        (acc.balance, acc.period, acc.lines, acc.openedAt) = (0, period + 1, 0, uint64(block.timestamp));
        emit AccountBilled(customer, ref, period, balance, invoiceId);
    }

    function _issueInvoice(
        address customer,
        address token,
        uint256 amount,
        uint32 paymentDays,
        bool hold,
        bytes32 subject,
        bytes32 ref
    ) private returns (uint256) {
        uint64 due = uint64(block.timestamp) + uint64(paymentDays) * 1 days;
        bytes memory out = _executeInternal(
            _ISSUE_INVOICE, ref, abi.encode(customer, _OPERATOR, token, amount, due, hold, subject)
        );
        return abi.decode(out, (uint256));
    }

    /// @dev The one customer of a batch's assets; with `checkDelete` marks pending deletes
    /// (ordering), otherwise checks that each pending-delete flag equals `deletions` and clears it.
    function _batchCustomer(bytes32[] memory assetIds, bool deletions, bool ordering)
        private
        returns (address customer)
    {
        uint256 n = assetIds.length;
        if (n == 0 || n > MAX_BATCH) revert AgreementBatchInvalidSize(n, MAX_BATCH);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 assetId = assetIds[i];
            Service storage s = _services[assetId];
            address c = s.customer;
            if (i == 0) {
                if (c == address(0)) revert AgreementUnknownService(assetId);
                customer = c;
            } else if (c != customer) {
                revert AgreementMixedCustomers(assetId, c);
            }
            if (ordering) {
                if (deletions) s.pendingDelete = true;
            } else {
                if (s.pendingDelete != deletions) revert AgreementDeletionMismatch(assetId, s.pendingDelete);
                if (deletions) s.pendingDelete = false;
            }
        }
    }

    /// @dev Duplicate check: the twin is Planned or Inactive and no installation invoice is open.
    /// @dev Whether `assetId` may get an installation request, and whether its twin is already
    /// scheduled (PendingInstallation or Delivered: its order line ordered and delivered it) —
    /// then the request does not move it. Planned or Inactive twins are moved to
    /// PendingInstallation by the request. A second request while one is open (or for a twin in
    /// any other state, e.g. Active) is {AgreementDuplicateInstallation}.
    function _checkInstallable(bytes32 assetId, Service storage s) private view returns (bool scheduled) {
        uint256 open = s.installInvoice;
        if (open != 0 && !_isOpen(open)) open = 0;
        uint8 state = uint8(REGISTRY.stateOf(assetId));
        if (!s.installing && open == 0) {
            if (state == _PLANNED || state == _INACTIVE) return false;
            if (state == _PENDING_INSTALLATION || state == _DELIVERED) return true;
        }
        revert AgreementDuplicateInstallation(assetId, state, open);
    }

    /// @dev The held invoice of an installation (none when the tariff is 0).
    function _installationInvoice(address customer, bytes32 assetId, bytes32 ref)
        private
        returns (uint256 invoiceId, uint256 charge)
    {
        Terms storage t = _terms;
        charge = uint256(int256(t.installation));
        if (charge != 0) invoiceId = _issueInvoice(customer, t.token, charge, t.paymentDays, true, assetId, ref);
    }

    function _transition(bytes32 assetId, uint8 to, bytes32 ref, bytes32 detailsHash) private {
        _executeInternal(_TRANSITION, ref, abi.encode(assetId, to, detailsHash));
    }

    function _isOpen(uint256 invoiceId) private view returns (bool) {
        IEscrowPayment.Status st = ESCROW.statusOf(invoiceId);
        return st == IEscrowPayment.Status.Issued || st == IEscrowPayment.Status.Funded;
    }

    function _known(bytes32 assetId) private view returns (Service storage s) {
        s = _services[assetId];
        if (s.customer == address(0)) revert AgreementUnknownService(assetId);
    }

    function _onlyOperator(address caller) private view {
        if (caller != _OPERATOR) revert AgreementUnauthorized(caller);
    }
}
