// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IConstitution} from "./interfaces/IConstitution.sol";
import {IEscrowPayment} from "./interfaces/IEscrowPayment.sol";
import {IEscrowBilling} from "./interfaces/IEscrowBilling.sol";
import {ConstitutionModule} from "./modules/ConstitutionModule.sol";

/// @title EscrowPayment
/// @notice Invoices, escrowed ERC-20 payments, receipts and credit notes. A Constitution
/// module: see {IEscrowPayment} for the actions and docs/agreement.md for the flows.
/// @dev Design notes:
/// - Who may release: the agreement's confirmation (Internal `confirmInvoice`, called by the
///   OperatorAgreement when the service is confirmed) or the payer itself (`releaseInvoice`).
///   Never the payee alone: the payee's only power over escrowed funds is to give them back
///   (`refundInvoice`). If confirmation never comes, the payer reclaims after
///   {CONFIRMATION_WINDOW}: funds are never stuck.
/// - Internal actions can be reached only by the modules their policy lists as callers (the
///   Constitution's capabilities; OperatorAgreement in the example consortium).
/// - The payer's exit never depends on membership: {reclaim} is called directly by the payer
///   after the window (a suspended member, or a customer that never was a member, gets its
///   funds back), and so are a payer's other protections: {pay}, {openDispute} and
///   {requestPayout} (issue 14: a retail customer pays, disputes and takes its credit out
///   itself); credit applied to an invoice is given back whenever it is cancelled,
///   refunded or reclaimed ({CreditRestored}); the payee can pay credit out ({payOutCredit}).
/// - Every entry point is `nonReentrant` (checked before anything else) and follows
///   checks-effects-interactions: the status changes before a token moves. Token transfers use
///   SafeERC20; the token is expected to be a plain ERC-20 (no fee on transfer, no rebasing).
/// - Storage per invoice: 5 slots (parties, amounts, dates and status packed in the first
///   three); per payer and payee an append-only index for the paged views.
/// - Billing (issue 14, {IEscrowBilling}): an invoice paid through at once (not held) may be paid
///   in parts and instalments and disputed; its settlement figures live in a separate record
///   (one slot + one for the write-off) so the invoice's own slots and the hot paths are
///   unchanged. Partial payments go straight to the payee (nothing stays in escrow).
contract EscrowPayment is IEscrowPayment, IEscrowBilling, ConstitutionModule, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev An invoice: slot 0 payer + status + hold + dates; slot 1 payee + amount; slot 2
    /// token + credited; then subject and ref.
    struct Invoice {
        address payer;
        Status status;
        bool hold;
        uint40 dueDate;
        uint40 fundedAt;
        address payee;
        uint96 amount;
        address token;
        uint96 credited;
        bytes32 subject;
        bytes32 ref;
    }

    /// @dev The params of `issueInvoice` (a static tuple: the same encoding as the flat list).
    struct Issue {
        address payer;
        address payee;
        address token;
        uint256 amount;
        uint64 dueDate;
        bool hold;
        bytes32 subject;
    }

    /// @dev A stored receipt: one slot + ref.
    struct StoredReceipt {
        uint96 amount;
        uint40 paidAt;
        bytes32 ref;
    }

    /// @dev The settlement figures of a not-held invoice (issue 14): slot 0 paid + disputed +
    /// plan + touched; slot 1 writtenOff + settled (the unpaid part of what resolutions rejected:
    /// the payer cannot dispute it again; payments cover it first).
    struct Billing {
        uint96 paid;
        uint96 disputed;
        uint32 interval;
        uint8 instalments;
        bool touched;
        uint96 writtenOff;
        uint96 settled;
    }

    /// @dev A dispute: slot 0 invoice + amount + credit + status; then line and reason. Amount and
    /// credit are at most an invoice's amount (96 bits); an invoice id fits 56 bits for ever.
    struct Dispute {
        uint56 invoiceId;
        uint96 amount;
        uint96 credit;
        DisputeStatus status;
        bytes32 line;
        bytes32 reason;
    }

    /// @notice Most instalments of a plan.
    uint8 public constant MAX_INSTALMENTS = 24;

    /// @inheritdoc IEscrowPayment
    uint256 public constant MAX_PAGE = 100;

    /// @inheritdoc IEscrowPayment
    uint64 public immutable CONFIRMATION_WINDOW;

    /// @inheritdoc IEscrowPayment
    uint256 public invoiceCount;
    /// @inheritdoc IEscrowPayment
    uint256 public creditNoteCount;

    mapping(uint256 invoiceId => Invoice) private _invoices;
    mapping(uint256 invoiceId => StoredReceipt) private _receipts;
    mapping(bytes32 partiesAndToken => uint256) private _credit;
    mapping(address payer => uint256[]) private _byPayer;
    mapping(address payee => uint256[]) private _byPayee;
    mapping(uint256 invoiceId => Billing) private _billing;
    mapping(uint256 disputeId => Dispute) private _disputes;
    mapping(bytes32 partiesAndToken => uint256) private _payoutRequests;
    /// @inheritdoc IEscrowBilling
    uint256 public disputeCount;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param constitution The Constitution whose actions this module implements.
    /// @param confirmationWindow Seconds a funded, held invoice waits for its confirmation before
    /// the payer may reclaim it (e.g. 30 days).
    constructor(IConstitution constitution, uint64 confirmationWindow) ConstitutionModule(constitution) {
        if (confirmationWindow < 1 days || confirmationWindow > 365 days) revert EscrowInvalidWindow(confirmationWindow);
        CONFIRMATION_WINDOW = confirmationWindow;
    }

    /*//////////////////////////////////////////////////////////////
                            ACTIONS: PUBLIC
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEscrowPayment
    /// @dev Emits {InvoiceFunded}; without `hold` also {InvoiceReleased} and {ReceiptIssued}.
    function fundInvoice(address caller, bytes32 ref, bytes calldata params) external nonReentrant onlyConstitution {
        uint256 id = abi.decode(params, (uint256));
        Invoice storage inv = _withStatus(id, Status.Issued);
        if (caller != inv.payer) revert EscrowNotPayer(id, caller);
        _fund(inv, id, caller, ref);
    }

    /// @dev Funds the Issued invoice `id` whole from `from`'s tokens (released at once unless held).
    function _fund(Invoice storage inv, uint256 id, address from, bytes32 ref) private returns (uint256 due) {
        _notPartlySettled(id);
        due = uint256(inv.amount) - inv.credited;
        (inv.status, inv.fundedAt) = (Status.Funded, uint40(block.timestamp));
        emit InvoiceFunded(id, inv.payer, inv.payee, ref, due);
        if (due != 0) IERC20(inv.token).safeTransferFrom(from, address(this), due);
        if (!inv.hold) _release(inv, id, ref);
    }

    /// @inheritdoc IEscrowPayment
    function releaseInvoice(address caller, bytes32 ref, bytes calldata params)
        external
        nonReentrant
        onlyConstitution
    {
        uint256 id = abi.decode(params, (uint256));
        Invoice storage inv = _withStatus(id, Status.Funded);
        if (caller != inv.payer) revert EscrowNotPayer(id, caller);
        _release(inv, id, ref);
    }

    /// @inheritdoc IEscrowPayment
    function refundInvoice(address caller, bytes32 ref, bytes calldata params) external nonReentrant onlyConstitution {
        uint256 id = abi.decode(params, (uint256));
        Invoice storage inv = _invoice(id);
        if (caller != inv.payee) revert EscrowNotPayee(id, caller);
        _void(inv, id, ref);
    }

    /// @inheritdoc IEscrowPayment
    function reclaimInvoice(address caller, bytes32 ref, bytes calldata params)
        external
        nonReentrant
        onlyConstitution
    {
        _reclaim(abi.decode(params, (uint256)), caller, ref);
    }

    /// @inheritdoc IEscrowPayment
    function reclaim(uint256 invoiceId) external nonReentrant {
        _reclaim(invoiceId, msg.sender, bytes32(0));
    }

    /// @inheritdoc IEscrowPayment
    function payOutCredit(address caller, bytes32 ref, bytes calldata params) external nonReentrant onlyConstitution {
        (address payer, address token, uint256 amount) = abi.decode(params, (address, address, uint256));
        (bytes32 key, uint256 available) = _creditFor(payer, caller, token, amount);
        _payCredit(payer, caller, token, amount, key, available, ref);
    }

    /*//////////////////////////////////////////////////////////////
                      ACTIONS: BILLING (IEscrowBilling)
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEscrowBilling
    function payInvoice(address caller, bytes32 ref, bytes calldata params) external nonReentrant onlyConstitution {
        (uint256 id, uint256 amount) = abi.decode(params, (uint256, uint256));
        Invoice storage inv = _partial(id);
        if (caller != inv.payer) revert EscrowNotPayer(id, caller);
        _payPart(inv, id, caller, amount, ref);
    }

    /// @inheritdoc IEscrowBilling
    function pay(uint256 invoiceId, uint256 amount) external nonReentrant {
        Invoice storage inv = _withStatus(invoiceId, Status.Issued);
        emit InvoicePaidBy(invoiceId, msg.sender, amount);
        if (!inv.hold) {
            _payPart(inv, invoiceId, msg.sender, amount, bytes32(0));
            return;
        }
        uint256 due = uint256(inv.amount) - inv.credited;
        if (amount != due) revert EscrowAmountTooHigh(invoiceId, amount, due);
        _fund(inv, invoiceId, msg.sender, bytes32(0));
    }

    /// @dev `amount` (1 .. outstanding) of the Issued, not held `inv` paid by `from` straight to the payee.
    function _payPart(Invoice storage inv, uint256 id, address from, uint256 amount, bytes32 ref) private {
        Billing storage b = _billing[id];
        uint256 available = _outstanding(inv, b);
        if (amount == 0 || amount > available) revert EscrowAmountTooHigh(id, amount, available);
        uint256 paid = b.paid + amount;
        (b.paid, b.touched) = (uint96(paid), true);
        uint256 settled = b.settled; // a payment covers the settled part first
        if (settled != 0) b.settled = settled > amount ? uint96(settled - amount) : 0;
        (address payee, address token) = (inv.payee, inv.token);
        emit InvoicePaid(id, inv.payer, payee, ref, amount, paid, available - amount);
        _settleIfDone(inv, b, id, ref);
        IERC20(token).safeTransferFrom(from, payee, amount);
    }

    /// @inheritdoc IEscrowBilling
    function setInstalments(address caller, bytes32 ref, bytes calldata params)
        external
        nonReentrant
        onlyConstitution
    {
        (uint256 id, uint8 count, uint32 interval) = abi.decode(params, (uint256, uint8, uint32));
        Invoice storage inv = _partial(id);
        if (caller != inv.payee) revert EscrowNotPayee(id, caller);
        if (count < 2 || count > MAX_INSTALMENTS || interval < 1 days || interval > 365 days) {
            revert EscrowInvalidInstalments(count, interval);
        }
        Billing storage b = _billing[id];
        (b.instalments, b.interval) = (count, interval);
        emit InstalmentsSet(id, inv.payer, caller, ref, count, interval);
    }

    /// @inheritdoc IEscrowBilling
    function disputeInvoice(address caller, bytes32 ref, bytes calldata params)
        external
        nonReentrant
        onlyConstitution
        returns (uint256 disputeId)
    {
        (uint256 id, uint256 amount, bytes32 line, bytes32 reason) =
            abi.decode(params, (uint256, uint256, bytes32, bytes32));
        disputeId = _openDispute(id, caller, amount, line, reason, ref);
    }

    /// @inheritdoc IEscrowBilling
    function openDispute(uint256 invoiceId, uint256 amount, bytes32 line, bytes32 reason)
        external
        nonReentrant
        returns (uint256 disputeId)
    {
        disputeId = _openDispute(invoiceId, msg.sender, amount, line, reason, bytes32(0));
    }

    /// @dev `payer` (checked: the invoice's payer) disputes `amount` of the Issued, not held
    /// invoice `id`: 1 .. outstanding ({EscrowAmountTooHigh}) and no more than the part never
    /// disputed ({EscrowDisputeSettled}). The one check of both paths ({disputeInvoice},
    /// {openDispute}). Emits {InvoiceDisputed}.
    function _openDispute(uint256 id, address payer, uint256 amount, bytes32 line, bytes32 reason, bytes32 ref)
        private
        returns (uint256 disputeId)
    {
        Invoice storage inv = _partial(id);
        if (payer != inv.payer) revert EscrowNotPayer(id, payer);
        Billing storage b = _billing[id];
        uint256 available = _outstanding(inv, b);
        if (amount == 0 || amount > available) revert EscrowAmountTooHigh(id, amount, available);
        uint256 disputable = _disputable(b, available);
        if (amount > disputable) revert EscrowDisputeSettled(id, amount, disputable, b.settled);
        (b.disputed, b.touched) = (b.disputed + uint96(amount), true);
        disputeId = ++disputeCount;
        _disputes[disputeId] = Dispute({
            invoiceId: uint56(id),
            amount: uint96(amount),
            credit: 0,
            status: DisputeStatus.Open,
            line: line,
            reason: reason
        });
        emit InvoiceDisputed(disputeId, id, payer, inv.payee, ref, line, amount, reason);
    }

    /// @inheritdoc IEscrowBilling
    function resolveDispute(address caller, bytes32 ref, bytes calldata params) external nonReentrant onlyConstitution {
        (uint256 disputeId, uint256 credit) = abi.decode(params, (uint256, uint256));
        _resolve(disputeId, credit, caller, ref, false);
    }

    /// @inheritdoc IEscrowBilling
    function decideDispute(address, bytes32 ref, bytes calldata params) external nonReentrant onlyConstitution {
        (uint256 disputeId, uint256 credit) = abi.decode(params, (uint256, uint256));
        if (_disputes[disputeId].status == DisputeStatus.Resolved) _revisit(disputeId, credit, ref);
        else _resolve(disputeId, credit, address(0), ref, true);
    }

    /// @inheritdoc IEscrowBilling
    function requestCreditPayout(address caller, bytes32 ref, bytes calldata params)
        external
        nonReentrant
        onlyConstitution
    {
        (address payee, address token, uint256 amount) = abi.decode(params, (address, address, uint256));
        _requestPayout(caller, payee, token, amount, ref);
    }

    /// @inheritdoc IEscrowBilling
    function requestPayout(address payee, address token, uint256 amount) external nonReentrant {
        _requestPayout(msg.sender, payee, token, amount, bytes32(0));
    }

    /// @dev `payer` asks `payee` for `amount` (1 .. its credit) of its credit in `token`.
    function _requestPayout(address payer, address payee, address token, uint256 amount, bytes32 ref) private {
        (bytes32 key, uint256 available) = _creditFor(payer, payee, token, amount);
        _payout(payer, payee, token, amount, key, available, ref);
    }

    /// @inheritdoc IEscrowBilling
    function settleCredit(address, bytes32 ref, bytes calldata params) external nonReentrant onlyConstitution {
        (address payer, address payee, address token) = abi.decode(params, (address, address, address));
        bytes32 key = _creditKey(payer, payee, token);
        uint256 available = _credit[key];
        if (available != 0) _payout(payer, payee, token, available, key, available, ref);
    }

    /*//////////////////////////////////////////////////////////////
                           ACTIONS: INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEscrowPayment
    /// @dev Requirements: non-zero, distinct parties and a token ({EscrowInvalidParties}); an
    /// amount of 1 to 2^96 - 1 ({EscrowInvalidAmount}); a due date not in the past
    /// ({EscrowInvalidDueDate}). Emits {InvoiceIssued} (and, fully credited, {InvoiceFunded}).
    function issueInvoice(address, bytes32 ref, bytes calldata params)
        external
        nonReentrant
        onlyConstitution
        returns (uint256 id)
    {
        Issue memory p = abi.decode(params, (Issue));
        _checkParties(p.payer, p.payee, p.token, p.amount);
        if (p.dueDate < block.timestamp || p.dueDate > type(uint40).max) revert EscrowInvalidDueDate(p.dueDate);
        bytes32 key = _creditKey(p.payer, p.payee, p.token);
        uint256 available = _credit[key];
        uint256 credited = available < p.amount ? available : p.amount;
        if (credited != 0) _credit[key] = available - credited;
        id = ++invoiceCount;
        Invoice storage inv = _invoices[id];
        (inv.payer, inv.status, inv.hold, inv.dueDate) = (p.payer, Status.Issued, p.hold, uint40(p.dueDate));
        (inv.payee, inv.amount, inv.token, inv.credited) = (p.payee, uint96(p.amount), p.token, uint96(credited));
        (inv.subject, inv.ref) = (p.subject, ref);
        _byPayer[p.payer].push(id);
        _byPayee[p.payee].push(id);
        emit InvoiceIssued(id, p.payer, p.payee, ref, p.token, p.amount, credited, p.dueDate, p.hold, p.subject);
        if (credited == p.amount) {
            // fully settled by credit: nothing to pull
            (inv.status, inv.fundedAt) = (Status.Funded, uint40(block.timestamp));
            emit InvoiceFunded(id, p.payer, p.payee, ref, 0);
            if (!p.hold) _release(inv, id, ref);
        }
    }

    /// @inheritdoc IEscrowPayment
    /// @dev Requirements: the invoice is Funded ({EscrowInvalidStatus}) and held
    /// ({EscrowNotHeld}). Emits {InvoiceReleased} and {ReceiptIssued}.
    function confirmInvoice(address, bytes32 ref, bytes calldata params) external nonReentrant onlyConstitution {
        uint256 id = abi.decode(params, (uint256));
        Invoice storage inv = _withStatus(id, Status.Funded);
        if (!inv.hold) revert EscrowNotHeld(id);
        _release(inv, id, ref);
    }

    /// @inheritdoc IEscrowPayment
    function voidInvoice(address, bytes32 ref, bytes calldata params) external nonReentrant onlyConstitution {
        uint256 id = abi.decode(params, (uint256));
        _void(_invoice(id), id, ref);
    }

    /// @inheritdoc IEscrowPayment
    /// @dev Requirements: as {issueInvoice} for parties and amount. Emits {CreditNoteIssued}.
    function issueCreditNote(address, bytes32 ref, bytes calldata params) external nonReentrant onlyConstitution {
        (address payer, address payee, address token, uint256 amount, bytes32 subject) =
            abi.decode(params, (address, address, address, uint256, bytes32));
        _checkParties(payer, payee, token, amount);
        _credit[_creditKey(payer, payee, token)] += amount;
        emit CreditNoteIssued(++creditNoteCount, payer, payee, ref, token, amount, subject);
    }

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEscrowPayment
    function invoice(uint256 invoiceId) external view returns (InvoiceView memory v) {
        Invoice storage inv = _invoices[invoiceId];
        v = InvoiceView({
            id: invoiceId,
            payer: inv.payer,
            payee: inv.payee,
            token: inv.token,
            amount: inv.amount,
            credited: inv.credited,
            dueDate: inv.dueDate,
            fundedAt: inv.fundedAt,
            status: inv.status,
            hold: inv.hold,
            subject: inv.subject,
            ref: inv.ref
        });
    }

    /// @inheritdoc IEscrowPayment
    function statusOf(uint256 invoiceId) external view returns (Status) {
        return _invoices[invoiceId].status;
    }

    /// @inheritdoc IEscrowPayment
    function isOverdue(uint256 invoiceId) external view returns (bool) {
        return _overdue(invoiceId) != 0;
    }

    /// @inheritdoc IEscrowPayment
    function reclaimableAt(uint256 invoiceId) external view returns (uint64) {
        Invoice storage inv = _invoices[invoiceId];
        if (inv.status != Status.Funded || !inv.hold) return 0;
        return uint64(inv.fundedAt) + CONFIRMATION_WINDOW;
    }

    /// @inheritdoc IEscrowPayment
    function receipt(uint256 invoiceId) external view returns (Receipt memory) {
        StoredReceipt storage r = _receipts[invoiceId];
        return Receipt({invoiceId: invoiceId, amount: r.amount, paidAt: r.paidAt, ref: r.ref});
    }

    /// @inheritdoc IEscrowPayment
    function creditOf(address payer, address payee, address token) external view returns (uint256) {
        return _credit[_creditKey(payer, payee, token)];
    }

    /// @inheritdoc IEscrowPayment
    function payerInvoiceCount(address payer) external view returns (uint256) {
        return _byPayer[payer].length;
    }

    /// @inheritdoc IEscrowPayment
    function payeeInvoiceCount(address payee) external view returns (uint256) {
        return _byPayee[payee].length;
    }

    /// @inheritdoc IEscrowPayment
    function invoicesOfPayer(address payer, uint256 offset, uint256 limit) external view returns (uint256[] memory) {
        return _page(_byPayer[payer], offset, limit);
    }

    /// @inheritdoc IEscrowPayment
    function invoicesOfPayee(address payee, uint256 offset, uint256 limit) external view returns (uint256[] memory) {
        return _page(_byPayee[payee], offset, limit);
    }

    /// @inheritdoc IEscrowBilling
    function billingOf(uint256 invoiceId) external view returns (BillingView memory v) {
        Billing storage b = _billing[invoiceId];
        Invoice storage inv = _invoices[invoiceId];
        (v.paid, v.disputed, v.writtenOff) = (b.paid, b.disputed, b.writtenOff);
        (v.instalments, v.interval) = (b.instalments, b.interval);
        if (inv.status == Status.Issued) v.outstanding = _outstanding(inv, b);
        else if (inv.status == Status.Released && b.paid == 0 && b.writtenOff == 0) {
            v.paid = uint256(inv.amount) - inv.credited; // funded whole
        }
        v.overdue = _overdue(invoiceId);
    }

    /// @inheritdoc IEscrowBilling
    function disputableOf(uint256 invoiceId) external view returns (uint256 disputable, uint256 settled) {
        Invoice storage inv = _invoices[invoiceId];
        Billing storage b = _billing[invoiceId];
        settled = b.settled;
        if (inv.status == Status.Issued && !inv.hold) disputable = _disputable(b, _outstanding(inv, b));
    }

    /// @inheritdoc IEscrowBilling
    function overdueAmount(uint256 invoiceId) external view returns (uint256) {
        return _overdue(invoiceId);
    }

    /// @inheritdoc IEscrowBilling
    function dispute(uint256 disputeId) external view returns (DisputeView memory v) {
        Dispute storage d = _disputes[disputeId];
        v = DisputeView({
            id: disputeId,
            invoiceId: d.invoiceId,
            amount: d.amount,
            credit: d.credit,
            status: d.status,
            line: d.line,
            reason: d.reason
        });
    }

    /// @inheritdoc IEscrowBilling
    function payoutRequested(address payer, address payee, address token) external view returns (uint256) {
        return _payoutRequests[_creditKey(payer, payee, token)];
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Funded → Released: pays the escrowed amount to the payee and stores the receipt.
    function _release(Invoice storage inv, uint256 id, bytes32 ref) private {
        uint256 paid = uint256(inv.amount) - inv.credited;
        inv.status = Status.Released;
        _receipts[id] = StoredReceipt({amount: uint96(paid), paidAt: uint40(block.timestamp), ref: ref});
        (address payer, address payee, address token) = (inv.payer, inv.payee, inv.token);
        emit InvoiceReleased(id, payer, payee, ref, paid);
        emit ReceiptIssued(id, payer, payee, ref, token, paid);
        if (paid != 0) IERC20(token).safeTransfer(payee, paid);
    }

    /// @dev The payer's reclaim of a funded invoice after the window (credit given back too).
    function _reclaim(uint256 id, address caller, bytes32 ref) private {
        Invoice storage inv = _withStatus(id, Status.Funded);
        if (caller != inv.payer) revert EscrowNotPayer(id, caller);
        uint64 at = uint64(inv.fundedAt) + CONFIRMATION_WINDOW;
        if (block.timestamp < at) revert EscrowReclaimTooEarly(id, at);
        _restoreCredit(inv, id);
        _refund(inv, id, ref, true);
    }

    /// @dev Gives the credit applied to `inv` back to its payer. Emits {CreditRestored}.
    function _restoreCredit(Invoice storage inv, uint256 id) private {
        uint256 credited = inv.credited;
        if (credited == 0) return;
        (address payer, address payee, address token) = (inv.payer, inv.payee, inv.token);
        _credit[_creditKey(payer, payee, token)] += credited;
        emit CreditRestored(id, payer, payee, token, credited);
    }

    /// @dev Funded → Refunded: pays the escrowed amount back to the payer.
    function _refund(Invoice storage inv, uint256 id, bytes32 ref, bool reclaimed) private {
        uint256 paid = uint256(inv.amount) - inv.credited;
        inv.status = Status.Refunded;
        address payer = inv.payer;
        emit InvoiceRefunded(id, payer, inv.payee, ref, paid, reclaimed);
        if (paid != 0) IERC20(inv.token).safeTransfer(payer, paid);
    }

    /// @dev Issued → Cancelled, Funded → Refunded (a settled invoice reverts). A cancelled
    /// invoice gives its applied credit back to the payer.
    function _void(Invoice storage inv, uint256 id, bytes32 ref) private {
        Status status = inv.status;
        if (status == Status.Issued) {
            _notPartlySettled(id);
            inv.status = Status.Cancelled;
            _restoreCredit(inv, id);
            emit InvoiceCancelled(id, inv.payer, inv.payee, ref);
        } else if (status == Status.Funded) {
            _restoreCredit(inv, id);
            _refund(inv, id, ref, false);
        } else {
            revert EscrowInvalidStatus(id, status);
        }
    }

    /// @dev An Issued, not held invoice (the partial path).
    function _partial(uint256 id) private view returns (Invoice storage inv) {
        inv = _withStatus(id, Status.Issued);
        if (inv.hold) revert EscrowHeld(id);
    }

    /// @dev Reverts with {EscrowPartlySettled} when `id` has partial figures.
    function _notPartlySettled(uint256 id) private view {
        Billing storage b = _billing[id];
        if (b.touched) revert EscrowPartlySettled(id, b.paid, b.disputed, b.writtenOff);
    }

    /// @dev Net amount minus paid, written off and disputed.
    function _outstanding(Invoice storage inv, Billing storage b) private view returns (uint256) {
        return uint256(inv.amount) - inv.credited - b.paid - b.writtenOff - b.disputed;
    }

    /// @dev The part of `available` (the outstanding part) never disputed: `available` less the
    /// unpaid part settled by resolutions.
    function _disputable(Billing storage b, uint256 available) private view returns (uint256) {
        uint256 settled = b.settled;
        return available > settled ? available - settled : 0;
    }

    /// @dev The part of an Issued invoice due by now that is neither paid, written off nor disputed.
    function _overdue(uint256 id) private view returns (uint256) {
        Invoice storage inv = _invoices[id];
        if (inv.status != Status.Issued || block.timestamp <= inv.dueDate) return 0;
        Billing storage b = _billing[id];
        uint256 net = uint256(inv.amount) - inv.credited;
        uint256 n = b.instalments;
        uint256 dueNow = net;
        if (n > 1) {
            uint256 k = 1 + (block.timestamp - inv.dueDate - 1) / b.interval;
            if (k < n) dueNow = (net * k) / n;
        }
        uint256 covered = uint256(b.paid) + b.writtenOff + b.disputed;
        return dueNow > covered ? dueNow - covered : 0;
    }

    /// @dev Closes an open dispute: `credit` written off, the rest owed again and settled (the
    /// payer cannot dispute it again); settles the invoice when done.
    function _resolve(uint256 disputeId, uint256 credit, address caller, bytes32 ref, bool byVote) private {
        Dispute storage d = _disputes[disputeId];
        DisputeStatus st = d.status;
        if (st == DisputeStatus.None) revert EscrowUnknownDispute(disputeId);
        if (st != DisputeStatus.Open) revert EscrowDisputeClosed(disputeId, st);
        uint256 id = d.invoiceId;
        Invoice storage inv = _withStatus(id, Status.Issued);
        if (!byVote && caller != inv.payee) revert EscrowNotPayee(id, caller);
        uint256 amount = d.amount;
        if (credit > amount) revert EscrowCreditTooHigh(disputeId, credit, amount);
        (d.status, d.credit) = (DisputeStatus.Resolved, uint96(credit));
        Billing storage b = _billing[id];
        (b.disputed, b.writtenOff, b.settled) =
            (b.disputed - uint96(amount), b.writtenOff + uint96(credit), b.settled + uint96(amount - credit));
        _emitResolved(inv, disputeId, id, ref, amount, credit, byVote);
        _settleIfDone(inv, b, id, ref);
    }

    /// @dev A consortium vote raises the credit of the resolved dispute `disputeId` to `credit`
    /// (more than its credit, at most its amount) while its invoice is Issued. Emits
    /// {DisputeRevisited}. The difference
    /// is written off (at most what is still unpaid) and off the unpaid settled part (a part the
    /// payer already paid is credited against the rest of the invoice).
    function _revisit(uint256 disputeId, uint256 credit, bytes32 ref) private {
        Dispute storage d = _disputes[disputeId];
        uint256 id = d.invoiceId;
        Invoice storage inv = _withStatus(id, Status.Issued);
        (uint256 amount, uint256 previous) = (d.amount, d.credit);
        if (credit <= previous) revert EscrowCreditNotRaised(disputeId, credit, previous);
        Billing storage b = _billing[id];
        uint256 most = previous + _outstanding(inv, b);
        if (most > amount) most = amount;
        if (credit > most) revert EscrowCreditTooHigh(disputeId, credit, most);
        d.credit = uint96(credit);
        _writeOff(b, credit - previous);
        emit DisputeRevisited(disputeId, id, inv.payer, inv.payee, ref, previous, credit);
        _settleIfDone(inv, b, id, ref);
    }

    /// @dev `extra` more written off, taken off the unpaid settled part first.
    function _writeOff(Billing storage b, uint256 extra) private {
        uint256 settled = b.settled;
        (b.writtenOff, b.settled) = (b.writtenOff + uint96(extra), settled > extra ? uint96(settled - extra) : 0);
    }

    function _emitResolved(
        Invoice storage inv,
        uint256 disputeId,
        uint256 id,
        bytes32 ref,
        uint256 amount,
        uint256 credit,
        bool byVote
    ) private {
        emit DisputeResolved(disputeId, id, inv.payer, inv.payee, ref, amount, credit, byVote);
    }

    /// @dev Issued → Released once nothing is outstanding or disputed: the receipt is for what
    /// was paid (the partial payments already went to the payee).
    function _settleIfDone(Invoice storage inv, Billing storage b, uint256 id, bytes32 ref) private {
        if (b.disputed != 0 || _outstanding(inv, b) != 0) return;
        uint256 paid = b.paid;
        (inv.status, inv.fundedAt) = (Status.Released, uint40(block.timestamp));
        _receipts[id] = StoredReceipt({amount: uint96(paid), paidAt: uint40(block.timestamp), ref: ref});
        emit InvoiceReleased(id, inv.payer, inv.payee, ref, paid);
        emit ReceiptIssued(id, inv.payer, inv.payee, ref, inv.token, paid);
    }

    /// @dev Pays `amount` of `payer`'s credit from `payee`'s allowance when allowance and balance
    /// cover it; records the request otherwise.
    function _payout(
        address payer,
        address payee,
        address token,
        uint256 amount,
        bytes32 key,
        uint256 available,
        bytes32 ref
    ) private {
        IERC20 t = IERC20(token);
        bool pay = t.allowance(payee, address(this)) >= amount && t.balanceOf(payee) >= amount;
        emit CreditPayoutRequested(payer, payee, ref, token, amount, pay);
        if (!pay) {
            _payoutRequests[key] = amount;
            return;
        }
        _payCredit(payer, payee, token, amount, key, available, ref);
    }

    /// @dev `payer`'s credit (key `key`, `available` of it) paid out by `payee`: `amount` off the
    /// credit and off an open payout request, then pulled from `payee` to `payer`. Emits {CreditPaidOut}.
    function _payCredit(
        address payer,
        address payee,
        address token,
        uint256 amount,
        bytes32 key,
        uint256 available,
        bytes32 ref
    ) private {
        _credit[key] = available - amount;
        uint256 requested = _payoutRequests[key];
        if (requested != 0) _payoutRequests[key] = requested > amount ? requested - amount : 0;
        emit CreditPaidOut(payer, payee, ref, token, amount);
        IERC20(token).safeTransferFrom(payee, payer, amount);
    }

    /// @dev The key and the amount of `payer`'s credit with `payee` in `token`; reverts with
    /// {EscrowInsufficientCredit} unless `amount` is 1 .. that credit.
    function _creditFor(address payer, address payee, address token, uint256 amount)
        private
        view
        returns (bytes32 key, uint256 available)
    {
        key = _creditKey(payer, payee, token);
        available = _credit[key];
        if (amount == 0 || amount > available) revert EscrowInsufficientCredit(payer, payee, token, amount, available);
    }

    /// @dev The invoice `id`; reverts with {EscrowUnknownInvoice} if none.
    function _invoice(uint256 id) private view returns (Invoice storage inv) {
        inv = _invoices[id];
        if (inv.status == Status.None) revert EscrowUnknownInvoice(id);
    }

    /// @dev The invoice `id` in `status`; reverts with {EscrowInvalidStatus} otherwise.
    function _withStatus(uint256 id, Status status) private view returns (Invoice storage inv) {
        inv = _invoice(id);
        if (inv.status != status) revert EscrowInvalidStatus(id, inv.status);
    }

    /// @dev Reverts unless the parties and the token are set and distinct and the amount fits.
    function _checkParties(address payer, address payee, address token, uint256 amount) private pure {
        if (payer == address(0) || payee == address(0) || token == address(0) || payer == payee) {
            revert EscrowInvalidParties(payer, payee, token);
        }
        if (amount == 0 || amount > type(uint96).max) revert EscrowInvalidAmount(amount);
    }

    function _creditKey(address payer, address payee, address token) private pure returns (bytes32) {
        return keccak256(abi.encode(payer, payee, token));
    }

    function _page(uint256[] storage ids, uint256 offset, uint256 limit) private view returns (uint256[] memory out) {
        uint256 n = ids.length;
        if (limit > MAX_PAGE) limit = MAX_PAGE;
        if (offset >= n) return new uint256[](0);
        uint256 end = offset + limit < n ? offset + limit : n;
        out = new uint256[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            out[i - offset] = ids[i];
        }
    }
}
