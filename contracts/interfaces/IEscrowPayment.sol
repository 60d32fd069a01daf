// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IEscrowPayment
/// @notice Invoices settled in ERC-20 through an escrow, receipts and credit notes (seed 000
/// "Payment Processing"). A module of the Constitution; see docs/agreement.md.
///
/// Actions (id `keccak256(bytes(name))`, entry point `name(address,bytes32,bytes)`): the entry
/// points below and {IEscrowBilling}'s, each with its `params` and who may send it (its
/// `custom:who` tag); docs/agreement.md's actions table is generated from them.
///
/// The Public actions may be granted to every member: the escrow itself checks that the
/// caller is the invoice's payer (fund, release, reclaim) or payee (refund).
///
/// Invoice lifecycle: `Issued` → `Funded` → `Released` | `Refunded`; `Issued` → `Cancelled`.
/// A `hold` invoice stays `Funded` (tokens in escrow) until the agreement confirms the service
/// (`confirmInvoice`) or the payer releases it; after `fundedAt + CONFIRMATION_WINDOW` without
/// a confirmation the payer reclaims it (no funds stuck). An invoice without `hold` is paid
/// through to the payee the moment it is funded. A credit note (payee owes payer) is applied to
/// the next invoices between the same parties in the same token.
interface IEscrowPayment {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice An invoice's state (`None`: no such invoice).
    enum Status {
        None,
        Issued,
        Funded,
        Released,
        Refunded,
        Cancelled
    }

    /// @notice An invoice as returned by {invoice}.
    /// @param amount The gross amount invoiced.
    /// @param credited The part of `amount` settled by credit notes at issuance; the payer funds
    /// `amount - credited`.
    /// @param dueDate Funding is due by then (unix seconds); past it an `Issued` invoice is overdue.
    /// @param fundedAt When it was funded (0 before).
    /// @param hold Whether the funds wait in escrow for a confirmation.
    /// @param subject What it is for (an asset id, a billing account period id), 0 if none.
    /// @param ref The ref of the action that issued it.
    struct InvoiceView {
        uint256 id;
        address payer;
        address payee;
        address token;
        uint256 amount;
        uint256 credited;
        uint64 dueDate;
        uint64 fundedAt;
        Status status;
        bool hold;
        bytes32 subject;
        bytes32 ref;
    }

    /// @notice A payment receipt, stored when an invoice is released to its payee.
    /// @param invoiceId The invoice paid (receipt ids are invoice ids).
    /// @param amount The amount transferred to the payee.
    /// @param paidAt When.
    /// @param ref The ref of the action that released the funds.
    struct Receipt {
        uint256 invoiceId;
        uint256 amount;
        uint64 paidAt;
        bytes32 ref;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice No invoice `invoiceId`.
    error EscrowUnknownInvoice(uint256 invoiceId);
    /// @notice `invoiceId` is `status`: the operation needs another state.
    error EscrowInvalidStatus(uint256 invoiceId, Status status);
    /// @notice `account` is not the payer of `invoiceId`.
    error EscrowNotPayer(uint256 invoiceId, address account);
    /// @notice `account` is not the payee of `invoiceId`.
    error EscrowNotPayee(uint256 invoiceId, address account);
    /// @notice `invoiceId` can be reclaimed from `reclaimableAt` only.
    error EscrowReclaimTooEarly(uint256 invoiceId, uint64 reclaimableAt);
    /// @notice `invoiceId` does not wait for a confirmation (it was paid through on funding).
    error EscrowNotHeld(uint256 invoiceId);
    /// @notice Payer, payee and token must be non-zero and the payer differs from the payee.
    error EscrowInvalidParties(address payer, address payee, address token);
    /// @notice An amount must be 1 to 2^96 - 1 token units.
    error EscrowInvalidAmount(uint256 amount);
    /// @notice A due date must not lie in the past.
    error EscrowInvalidDueDate(uint64 dueDate);

    /// @notice The confirmation window `window` (seconds) is outside 1 day .. 365 days.
    error EscrowInvalidWindow(uint64 window);

    /// @notice `amount` exceeds the credit `available` of `payer` with `payee` in `token`.
    error EscrowInsufficientCredit(address payer, address payee, address token, uint256 amount, uint256 available);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Invoice `invoiceId` was issued: `payer` owes `payee` `amount - credited` of `token`
    /// by `dueDate`.
    event InvoiceIssued(
        uint256 indexed invoiceId,
        address indexed payer,
        address indexed payee,
        bytes32 ref,
        address token,
        uint256 amount,
        uint256 credited,
        uint64 dueDate,
        bool hold,
        bytes32 subject
    );

    /// @notice `payer` paid `amount` into escrow for `invoiceId`.
    event InvoiceFunded(
        uint256 indexed invoiceId, address indexed payer, address indexed payee, bytes32 ref, uint256 amount
    );

    /// @notice The escrowed `amount` of `invoiceId` went to `payee` (by confirmation or by the payer).
    event InvoiceReleased(
        uint256 indexed invoiceId, address indexed payer, address indexed payee, bytes32 ref, uint256 amount
    );

    /// @notice The escrowed `amount` of `invoiceId` went back to `payer` (refund by the payee or
    /// the agreement: `reclaimed` false; reclaim by the payer after the deadline: true).
    event InvoiceRefunded(
        uint256 indexed invoiceId,
        address indexed payer,
        address indexed payee,
        bytes32 ref,
        uint256 amount,
        bool reclaimed
    );

    /// @notice `invoiceId` was cancelled before it was funded.
    event InvoiceCancelled(uint256 indexed invoiceId, address indexed payer, address indexed payee, bytes32 ref);

    /// @notice Receipt for `invoiceId`: `payee` received `amount` of `token` from `payer`.
    event ReceiptIssued(
        uint256 indexed invoiceId,
        address indexed payer,
        address indexed payee,
        bytes32 ref,
        address token,
        uint256 amount
    );

    /// @notice `payee` owes `payer` a credit of `amount` of `token`, applied to their next invoices.
    event CreditNoteIssued(
        uint256 indexed noteId,
        address indexed payer,
        address indexed payee,
        bytes32 ref,
        address token,
        uint256 amount,
        bytes32 subject
    );

    /// @notice Credit applied to invoice `invoiceId` was given back to its payer (the invoice was
    /// cancelled, refunded or reclaimed): `amount` is available again for the next invoice.
    event CreditRestored(
        uint256 indexed invoiceId, address indexed payer, address indexed payee, address token, uint256 amount
    );

    /// @notice `payee` paid `amount` of `payer`'s credit out in `token`.
    event CreditPaidOut(
        address indexed payer, address indexed payee, bytes32 indexed ref, address token, uint256 amount
    );

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The payer pays the invoice into escrow: pulls `amount - credited` of the token
    /// from `caller` (who approved this contract). Without `hold` the funds go on to the payee
    /// at once (released, receipt).
    /// @dev Requirements: the invoice exists ({EscrowUnknownInvoice}), is Issued
    /// ({EscrowInvalidStatus}), `caller` is its payer ({EscrowNotPayer}); the transfer succeeds.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint256 invoiceId)`.
    /// @custom:who The invoice's payer only; the invoice Issued, not partly paid or disputed (funded whole).
    function fundInvoice(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The payer releases a funded, held invoice to the payee without waiting for the
    /// agreement's confirmation. Emits {InvoiceReleased} and {ReceiptIssued}.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint256 invoiceId)`.
    /// @custom:who The invoice's payer only; the invoice Funded.
    function releaseInvoice(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The payee gives up the invoice: Funded → Refunded (funds back to the payer),
    /// Issued → Cancelled.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint256 invoiceId)`.
    /// @custom:who The invoice's payee only; the invoice Funded, or Issued and not partly paid or disputed.
    function refundInvoice(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The payer takes back the funds of a held invoice whose confirmation did not come
    /// within {CONFIRMATION_WINDOW} of funding ({EscrowReclaimTooEarly} before).
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint256 invoiceId)`.
    /// @custom:who The invoice's payer only; the invoice Funded at least `CONFIRMATION_WINDOW` ago.
    function reclaimInvoice(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The payer's exit, called DIRECTLY by the payer (not through the Constitution):
    /// reclaims a funded, held invoice after the confirmation window, whether or not the payer
    /// is still an active member (a suspended member or a former customer gets its money back).
    /// @dev Requirements: as `reclaimInvoice`, with `msg.sender` as the payer. Emits
    /// {InvoiceRefunded} (+ {CreditRestored}).
    /// @param invoiceId The invoice.
    function reclaim(uint256 invoiceId) external;

    /// @notice The payee pays the payer's credit (credit notes not yet used) out in tokens.
    /// @dev Requirements: `caller` is the payee and has approved `amount` to this contract;
    /// `amount` is 1 .. the credit ({EscrowInsufficientCredit}). Emits {CreditPaidOut}.
    /// @param caller The payee.
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(address payer, address token, uint256 amount)`.
    /// @custom:who The payee owing the credit (the credit is looked up with `caller` as payee); 1 to `payer`'s
    /// credit with it in `token`, approved to the escrow.
    function payOutCredit(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Internal action: issues an invoice, applying the credit `payee` owes `payer` in
    /// `token` first (a fully credited invoice is born Funded with nothing to pull, or Released
    /// at once without `hold`). Returns `abi.encode(uint256 invoiceId)`.
    /// @param caller The member whose action the calling module is executing (not checked here).
    /// @param ref The correlation id of the action that called it.
    /// @param params `abi.encode(Issue issue)`.
    /// @custom:who Internal: only the modules its policy names as callers (OperatorAgreement, VendorSettlement), through `executeInternal`; the escrow checks no caller. Distinct non-zero parties and a
    /// token, an amount of 1 to 2^96 - 1, a due date not in the past.
    function issueInvoice(address caller, bytes32 ref, bytes calldata params) external returns (uint256);

    /// @notice Internal action: the service was confirmed; a Funded held invoice is released.
    /// @param caller The member whose action the calling module is executing (not checked here).
    /// @param ref The correlation id of the action that called it.
    /// @param params `abi.encode(uint256 invoiceId)`.
    /// @custom:who Internal: only the modules its policy names as callers (OperatorAgreement), through `executeInternal`; the escrow checks no caller. The invoice Funded and held.
    function confirmInvoice(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Internal action: the service will not be delivered; Issued → Cancelled, Funded →
    /// Refunded. Returns nothing; reverts on a settled invoice.
    /// @param caller The member whose action the calling module is executing (not checked here).
    /// @param ref The correlation id of the action that called it.
    /// @param params `abi.encode(uint256 invoiceId)`.
    /// @custom:who Internal: only the modules its policy names as callers (OperatorAgreement), through `executeInternal`; the escrow checks no caller. The invoice Issued (not partly paid or disputed) or
    /// Funded.
    function voidInvoice(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Internal action: records a credit `payee` owes `payer`.
    /// @param caller The member whose action the calling module is executing (not checked here).
    /// @param ref The correlation id of the action that called it.
    /// @param params `abi.encode(address payer, address payee, address token, uint256 amount, bytes32 subject)`.
    /// @custom:who Internal: only the modules its policy names as callers (OperatorAgreement, VendorSettlement), through `executeInternal`; the escrow checks no caller. Distinct non-zero parties and a
    /// token, an amount of 1 to 2^96 - 1.
    function issueCreditNote(address caller, bytes32 ref, bytes calldata params) external;

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @notice Seconds after funding during which a held invoice waits for its confirmation.
    function CONFIRMATION_WINDOW() external view returns (uint64);

    /// @notice The largest page of the paged views (100).
    function MAX_PAGE() external view returns (uint256);

    /// @notice Number of invoices issued so far; ids run from 1 to this number.
    function invoiceCount() external view returns (uint256);

    /// @notice Invoice `invoiceId` (status `None` if unknown).
    function invoice(uint256 invoiceId) external view returns (InvoiceView memory);

    /// @notice The status of `invoiceId`.
    function statusOf(uint256 invoiceId) external view returns (Status);

    /// @notice Whether `invoiceId` is Issued (not funded) and past its due date.
    function isOverdue(uint256 invoiceId) external view returns (bool);

    /// @notice When the payer may reclaim `invoiceId` (0 unless it is Funded and held).
    function reclaimableAt(uint256 invoiceId) external view returns (uint64);

    /// @notice The receipt of `invoiceId` (`paidAt` 0 if it was not released).
    function receipt(uint256 invoiceId) external view returns (Receipt memory);

    /// @notice The unapplied credit `payee` owes `payer` in `token`.
    function creditOf(address payer, address payee, address token) external view returns (uint256);

    /// @notice Number of credit notes issued so far.
    function creditNoteCount() external view returns (uint256);

    /// @notice Number of invoices `payer` owes (or owed).
    function payerInvoiceCount(address payer) external view returns (uint256);

    /// @notice Number of invoices issued to the benefit of `payee`.
    function payeeInvoiceCount(address payee) external view returns (uint256);

    /// @notice Invoice ids of `payer` in issue order, at most `limit` (capped at {MAX_PAGE}) from `offset`.
    function invoicesOfPayer(address payer, uint256 offset, uint256 limit) external view returns (uint256[] memory);

    /// @notice Invoice ids of `payee` in issue order, at most `limit` (capped at {MAX_PAGE}) from `offset`.
    function invoicesOfPayee(address payee, uint256 offset, uint256 limit) external view returns (uint256[] memory);
}
