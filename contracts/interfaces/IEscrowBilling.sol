// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IEscrowBilling
/// @notice The EscrowPayment's billing extension (issue 14): partial payments and instalments
/// on an invoice, an overdue flag on what is left, disputes of an invoice or of one of its lines
/// (resolved by the payee or by a consortium vote), and credit paid out in tokens on the payer's
/// request or at a final disconnect. See docs/agreement.md ("Billing").
///
/// Actions: the entry points below, each with its `params` and who may send it (its `custom:who`
/// tag); docs/agreement.md's actions table is generated from them (with {IEscrowPayment}'s).
///
/// {pay} is called DIRECTLY (not through the Constitution), like `reclaim`: anyone — a customer
/// that is not a member, or someone paying for it — pays an invoice from its own tokens. Money
/// only goes in: the invoice's payer stays its payer (a refund or reclaim goes to the payer).
/// {openDispute} and {requestPayout} are the direct twins of `disputeInvoice` and
/// `requestCreditPayout` for the payer itself (`msg.sender` is the party: the invoice's payer,
/// the credit's holder): same checks, errors and events (with `ref` 0), one shared
/// implementation. They need no membership, so a retail customer without a node disputes its
/// bill and takes its credit out itself; a member payer may use them too (as it may `pay` and
/// `reclaim`): they are the payer's own protections, which no grant, policy or suspension
/// takes away — the actions remain for a member that wants the Constitution's record (ref,
/// delegates, batches).
///
/// Only invoices paid through at once (not `hold`) take partial payments, instalments and
/// disputes: a held invoice (an installation) is funded whole or withdrawn. On such an invoice,
/// `net = amount - credited` splits into `paid` (went to the payee), `writtenOff` (credited by a
/// dispute's resolution), `disputed` (open disputes) and `outstanding` (the rest). The invoice is
/// Released (receipt for `paid`) when `outstanding` and `disputed` are both 0.
interface IEscrowBilling {
    /// @notice A dispute's state.
    enum DisputeStatus {
        None,
        Open,
        Resolved
    }

    /// @notice The settlement figures of an invoice.
    /// @param paid Paid to the payee so far (partial payments, or the whole at funding).
    /// @param disputed Under open disputes: not payable, not overdue.
    /// @param writtenOff Credited by resolved disputes: no longer owed.
    /// @param outstanding Still owed and not disputed.
    /// @param overdue The part of `outstanding` past its due date (instalments count one by one).
    /// @param instalments 0: one payment due at the due date; n: n equal instalments from the due date.
    /// @param interval Seconds between instalments.
    struct BillingView {
        uint256 paid;
        uint256 disputed;
        uint256 writtenOff;
        uint256 outstanding;
        uint256 overdue;
        uint8 instalments;
        uint32 interval;
    }

    /// @notice A dispute as returned by {dispute}.
    /// @param line The disputed line item (0: the invoice as a whole).
    /// @param reason A hash or ref of the reason (details, encrypted, in the DetailsVault).
    /// @param credit What its resolution credited (0 while open).
    struct DisputeView {
        uint256 id;
        uint256 invoiceId;
        uint256 amount;
        uint256 credit;
        DisputeStatus status;
        bytes32 line;
        bytes32 reason;
    }

    /// @notice `amount` is more than the `available` part of `invoiceId` (outstanding, not disputed).
    error EscrowAmountTooHigh(uint256 invoiceId, uint256 amount, uint256 available);
    /// @notice `invoiceId` waits for a confirmation (held): it is funded whole.
    error EscrowHeld(uint256 invoiceId);
    /// @notice `invoiceId` was partly settled (`paid`, `disputed`, `writtenOff`): use the partial path.
    error EscrowPartlySettled(uint256 invoiceId, uint256 paid, uint256 disputed, uint256 writtenOff);
    /// @notice An instalment plan needs 2 to 24 instalments, 1 to 365 days apart.
    error EscrowInvalidInstalments(uint8 count, uint32 interval);
    /// @notice No dispute `disputeId`.
    error EscrowUnknownDispute(uint256 disputeId);
    /// @notice Dispute `disputeId` is `status` (already resolved).
    error EscrowDisputeClosed(uint256 disputeId, DisputeStatus status);
    /// @notice A resolution's `credit` exceeds the disputed `amount` (a vote revisiting a
    /// resolved dispute: the most it may credit, its amount or its credit plus the unpaid part).
    error EscrowCreditTooHigh(uint256 disputeId, uint256 credit, uint256 amount);
    /// @notice `amount` of `invoiceId` exceeds the part never disputed (`disputable`): `settled`
    /// (of the outstanding part) was rejected by dispute resolutions and cannot be disputed again
    /// by the payer (only a consortium vote, {decideDispute}, can still credit it).
    error EscrowDisputeSettled(uint256 invoiceId, uint256 amount, uint256 disputable, uint256 settled);
    /// @notice A vote revisiting resolved dispute `disputeId` must raise its credit above `previous`.
    error EscrowCreditNotRaised(uint256 disputeId, uint256 credit, uint256 previous);

    /// @notice `payer` paid `amount` of `invoiceId` through to `payee`; `paid` in total so far.
    event InvoicePaid(
        uint256 indexed invoiceId,
        address indexed payer,
        address indexed payee,
        bytes32 ref,
        uint256 amount,
        uint256 paid,
        uint256 outstanding
    );
    /// @notice `from` paid `amount` of `invoiceId` directly ({pay}); {InvoicePaid} or
    /// {IEscrowPayment-InvoiceFunded} tells the rest (with the invoice's payer).
    event InvoicePaidBy(uint256 indexed invoiceId, address indexed from, uint256 amount);
    /// @notice `invoiceId` is payable in `count` instalments, `interval` seconds apart, from its due date.
    event InstalmentsSet(uint256 indexed invoiceId, address indexed payer, address indexed payee, bytes32 ref, uint8 count, uint32 interval);
    /// @notice `payer` disputes `amount` of `invoiceId` (`line` 0: the whole invoice) for `reason`.
    event InvoiceDisputed(
        uint256 indexed disputeId,
        uint256 indexed invoiceId,
        address indexed payer,
        address payee,
        bytes32 ref,
        bytes32 line,
        uint256 amount,
        bytes32 reason
    );
    /// @notice Dispute `disputeId` was resolved: `credit` of its `amount` written off the invoice,
    /// the rest owed again; `byVote` when the consortium decided.
    event DisputeResolved(
        uint256 indexed disputeId,
        uint256 indexed invoiceId,
        address indexed payer,
        address payee,
        bytes32 ref,
        uint256 amount,
        uint256 credit,
        bool byVote
    );
    /// @notice A consortium vote raised the credit of the resolved dispute `disputeId` from
    /// `previousCredit` to `credit`: `credit - previousCredit` more written off the invoice (a
    /// second {DisputeResolved} is never emitted, so summing those stays exact).
    event DisputeRevisited(
        uint256 indexed disputeId,
        uint256 indexed invoiceId,
        address indexed payer,
        address payee,
        bytes32 ref,
        uint256 previousCredit,
        uint256 credit
    );
    /// @notice `payer` asked `payee` to pay `amount` of its credit in `token`; `paid` says whether
    /// it was paid at once (the payee's allowance and balance covered it) or awaits {payOutCredit}.
    event CreditPayoutRequested(
        address indexed payer, address indexed payee, bytes32 indexed ref, address token, uint256 amount, bool paid
    );

    /// @notice The payer pays `amount` of the invoice's outstanding part through to the payee.
    /// @dev Requirements: Issued, not held ({EscrowHeld}); `caller` is the payer; 1 ..
    /// outstanding ({EscrowAmountTooHigh}). Emits {InvoicePaid}; the last payment also
    /// {InvoiceReleased} and {ReceiptIssued} for the total paid.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint256 invoiceId, uint256 amount)`.
    /// @custom:who The invoice's payer only; the invoice Issued and not held, `amount` 1 to what is outstanding.
    function payInvoice(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Anyone pays `amount` of an Issued invoice from its own tokens, called DIRECTLY
    /// (not through the Constitution, so a payer that is not a member can pay its bill).
    /// @dev Pulls `amount` from `msg.sender` (its ERC-20 allowance to this contract). A not held
    /// invoice: as {payInvoice} (partial, 1 .. outstanding, {EscrowAmountTooHigh}) without the
    /// payer check. A held invoice (an installation) is funded whole: `amount` is its net
    /// ({EscrowAmountTooHigh}), into escrow until the confirmation as `fundInvoice`. The
    /// invoice's payer stays its payer. Emits {InvoicePaidBy} and {InvoicePaid} (or
    /// {IEscrowPayment-InvoiceFunded}); a final payment also {IEscrowPayment-InvoiceReleased}.
    /// @param invoiceId The invoice.
    /// @param amount Token units to pay.
    function pay(uint256 invoiceId, uint256 amount) external;

    /// @notice The payee agrees an instalment plan on an Issued, not held invoice.
    /// @dev Requirements: `caller` is the payee; 2 .. 24 instalments, 1 .. 365 days apart
    /// ({EscrowInvalidInstalments}). Emits {InstalmentsSet}.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint256 invoiceId, uint8 count, uint32 interval)`: `interval` in seconds.
    /// @custom:who The invoice's payee only; the invoice Issued and not held; 2 to 24 instalments (`MAX_INSTALMENTS`),
    /// 1 to 365 days apart.
    function setInstalments(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The payer disputes `amount` of an Issued, not held invoice (or of its line `line`).
    /// A dispute ends the argument: what its resolution rejected (amount − credit) is settled and
    /// cannot be disputed again by the payer, so it counts as overdue; only a consortium vote
    /// ({decideDispute}) can still credit it.
    /// @dev Requirements: `caller` is the payer; 1 .. outstanding ({EscrowAmountTooHigh}); at
    /// most the part never disputed ({disputableOf}, {EscrowDisputeSettled}: payments cover the
    /// settled part first).
    /// Emits {InvoiceDisputed}. Returns `abi.encode(uint256 disputeId)`.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint256 invoiceId, uint256 amount, bytes32 line, bytes32 reason)`: `line` 0 for
    /// the invoice as a whole.
    /// @custom:who The invoice's payer only; the invoice Issued and not held, `amount` 1 to the outstanding
    /// part never disputed before.
    function disputeInvoice(address caller, bytes32 ref, bytes calldata params) external returns (uint256);

    /// @notice The invoice's payer disputes `amount` of it (or of its line `line`), called
    /// DIRECTLY (not through the Constitution): a payer that is not a member disputes its bill.
    /// @dev As {disputeInvoice} with `msg.sender` as the caller and `ref` 0. Requirements: the
    /// invoice exists ({IEscrowPayment-EscrowUnknownInvoice}), is Issued
    /// ({IEscrowPayment-EscrowInvalidStatus}) and not held ({EscrowHeld}); `msg.sender` is its
    /// payer ({IEscrowPayment-EscrowNotPayer}); 1 .. outstanding ({EscrowAmountTooHigh}); at
    /// most the part never disputed ({EscrowDisputeSettled}). Emits {InvoiceDisputed}.
    /// @param invoiceId The invoice.
    /// @param amount Token units disputed (not overdue while the dispute is open).
    /// @param line The disputed line item's ref (0: the invoice as a whole).
    /// @param reason A hash or ref of the reason.
    /// @return disputeId The new dispute's id.
    function openDispute(uint256 invoiceId, uint256 amount, bytes32 line, bytes32 reason)
        external
        returns (uint256 disputeId);

    /// @notice The payee resolves an open dispute, crediting `credit` (0 .. its amount) off the
    /// invoice; the rest is owed again. Emits {DisputeResolved} (+ release when settled).
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint256 disputeId, uint256 credit)`.
    /// @custom:who The disputed invoice's payee only; the dispute open, its invoice Issued, `credit` at most the
    /// disputed amount.
    function resolveDispute(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice As {resolveDispute}, decided by a consortium vote (the action's policy). A vote may
    /// also revisit a resolved dispute while its invoice is Issued: it raises the credit
    /// ({EscrowCreditNotRaised} otherwise) up to the dispute's amount and to what is still unpaid
    /// ({EscrowCreditTooHigh}); the difference is written off. Emits {DisputeResolved}, or
    /// {DisputeRevisited} for a revisit (+ release when settled).
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint256 disputeId, uint256 credit)`.
    /// @custom:who No caller check: whoever the constitution lets (a vote in the example consortium). The dispute
    /// open, or resolved with a lower credit (a revisit), its invoice Issued.
    function decideDispute(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The payer asks for `amount` of its credit with `payee` in tokens: paid at once
    /// from the payee's allowance to this contract when it and the payee's balance cover it,
    /// else recorded for the payee's {IEscrowPayment-payOutCredit}. Emits {CreditPayoutRequested}
    /// (+ {IEscrowPayment-CreditPaidOut}).
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(address payee, address token, uint256 amount)`.
    /// @custom:who The credit's holder (the payer, `caller`); 1 to its credit with `payee` in `token`.
    function requestCreditPayout(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The credit's holder asks `payee` for `amount` of its credit in `token`, called
    /// DIRECTLY (not through the Constitution): a payer that is not a member takes its credit out.
    /// @dev As {requestCreditPayout} with `msg.sender` as the payer and `ref` 0. Requirements:
    /// 1 .. `msg.sender`'s credit with `payee` in `token`
    /// ({IEscrowPayment-EscrowInsufficientCredit}). Emits {CreditPayoutRequested} (+
    /// {IEscrowPayment-CreditPaidOut} when paid at once).
    /// @param payee Who owes the credit (the operator).
    /// @param token The credit's token.
    /// @param amount Token units asked for.
    function requestPayout(address payee, address token, uint256 amount) external;

    /// @notice Internal action (a final disconnect): pays all of `payer`'s credit with `payee` in
    /// `token` out as {requestCreditPayout} does; nothing when there is none.
    /// @param caller The member whose action the calling module is executing (not checked here).
    /// @param ref The correlation id of the action that called it.
    /// @param params `abi.encode(address payer, address payee, address token)`.
    /// @custom:who Internal: only the modules its policy names as callers (OperatorAgreement, at a customer's
    /// final disconnect), through `executeInternal`; the escrow checks no caller. Nothing happens without credit.
    function settleCredit(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The settlement figures of `invoiceId`.
    function billingOf(uint256 invoiceId) external view returns (BillingView memory);

    /// @notice What of `invoiceId` its payer may still dispute, and what of it dispute
    /// resolutions settled (rejected: never disputable again by the payer).
    /// @param invoiceId The invoice.
    /// @return disputable The outstanding part never disputed (0 unless Issued and not held).
    /// @return settled The unpaid part of what its resolved disputes rejected (their amount −
    /// credit): payments cover it first.
    function disputableOf(uint256 invoiceId) external view returns (uint256 disputable, uint256 settled);

    /// @notice What of `invoiceId` is past due now and neither paid, disputed nor written off.
    function overdueAmount(uint256 invoiceId) external view returns (uint256);

    /// @notice Dispute `disputeId`.
    function dispute(uint256 disputeId) external view returns (DisputeView memory);

    /// @notice Number of disputes opened so far; ids run from 1.
    function disputeCount() external view returns (uint256);

    /// @notice The credit payout `payer` asked of `payee` in `token` and not yet paid.
    function payoutRequested(address payer, address payee, address token) external view returns (uint256);
}
