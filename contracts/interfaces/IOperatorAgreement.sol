// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @dev How many MACD kinds there are: the number of {IOperatorAgreement-MacdKind} values, the
/// length of {IOperatorAgreement-Terms}'s tariff array (Solidity takes no `type(MacdKind).max + 1`
/// as an array length; tests/toolchain/test_rules.py checks the two agree).
uint256 constant MACD_KINDS = 4;

/// @title IOperatorAgreement
/// @notice The operator agreement of seed 000: terms between the operator and its customers
/// (a tariff per service type, the settlement token, payment terms) and the flows that move the
/// digital twins (AssetRegistry) and charge for them (EscrowPayment). A Constitution module;
/// see docs/agreement.md.
///
/// Actions (id `keccak256(bytes(name))`, entry point `name(address,bytes32,bytes)`): the entry
/// points below and {IAgreementBilling}'s, each with its `params` and who may send it (its
/// `custom:who` tag); docs/agreement.md's actions table is generated from them.
///
/// Customers registered in the CustomerRegistry ("bilateral" customers, members or not) are
/// served by their own operator on their own price list, which only the two parties know (the
/// chain holds its commitment): their chargeable requests — `op` 0 installation, 1 MACD change,
/// 2 disconnect, `inner` being the params of `requestInstallation` / `orderChange` /
/// `orderDisconnect`; 3 the service's monthly charge, `inner = abi.encode(assetId)`, only by the
/// operator with the customer's consent (IAgreementBilling); 4 a bulk MACD order, `inner` being
/// the params of `orderChanges` `(uint8 kind, bytes32[] assetIds, bytes32 detailsHash)`, `charge`
/// per asset, its consent's subject `keccak256(abi.encodePacked(assetIds))` and ceiling per asset — go through `actFor` with the charge stated (checked by the counterparty's
/// confirmation or dispute against the committed list). With a `signature`, the operator submits
/// the request as the customer's own (EIP-712 consent: action, asset, kind, `maxCharge` >=
/// `charge`, nonce, deadline, verified and spent by the registry). Unregistered member customers
/// keep the plain entry points and the public default tariff ({terms}) of the default operator.
///
/// `kind` is a {MacdKind} (0 move, 1 add, ...; {MACD_KINDS} of them). All are Public actions; the
/// module calls the Internal actions `transition` and `transitionBatch` (AssetRegistry) and
/// `issueInvoice`, `confirmInvoice`, `voidInvoice`, `issueCreditNote` (EscrowPayment).
///
/// Flows own the twin: every operation is recorded per asset as ordered, with what it charged
/// ({Pending}); it can be confirmed or cancelled once, and a cancellation gives back exactly
/// that charge. The twin's customer is a party recorded by the AssetRegistry: a customer acts
/// only on its own twins; the service (and the customer's hold on the twin) ends when a
/// disconnect or a deletion is confirmed.
///
/// Charging: the installation charge is one held invoice per installation (its payment gates
/// the activation). MACD and disconnect charges (or credits, negative tariffs) accrue on the
/// customer's running account, one storage word per customer; `billAccount` closes the billing
/// period into ONE invoice (or a credit note when the balance is negative).
interface IOperatorAgreement {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice The MACD orders. A new kind is one more value here (and {MACD_KINDS} + 1): its
    /// tariff is `Terms.macd[kind]`, its billing line kind `ChargeKind.Macd + kind`
    /// ({IAgreementBilling-ChargeKind}); only {Delete} has its own rule (confirming it ends the
    /// service).
    enum MacdKind {
        Move,
        Add,
        Change,
        Delete
    }

    /// @notice The agreement's terms. Amounts are in token units; MACD and disconnect tariffs
    /// may be negative (a credit to the customer). Packed: token and payment days in one slot,
    /// the installation and disconnect tariffs in the next, then two `macd` tariffs per slot.
    /// @param token The settlement token (ERC-20).
    /// @param paymentDays Days from issuance until an invoice is due (0 = due at once).
    /// @param installation The charge of one installation (>= 0; 0 = free, no invoice).
    /// @param disconnect The final charge (or refund) of a disconnect.
    /// @param macd The charge (or credit) of each MACD kind, indexed by {MacdKind}.
    struct Terms {
        address token;
        uint32 paymentDays;
        int96 installation;
        int96 disconnect;
        int96[MACD_KINDS] macd;
    }

    /// @notice The operation an asset has open under the agreement (one at a time).
    enum Pending {
        None,
        Installation,
        Change,
        Disconnect
    }

    /// @notice What the agreement knows of an asset it serves.
    /// @param customer The customer the asset is served for (0: no service now).
    /// @param installInvoice The invoice of its last installation request (0: none or free).
    /// @param pendingDelete A MACD delete is pending (confirmation leads to Inactive).
    /// @param nonPayment The pending disconnect was ordered for non-payment.
    /// @param pending The open operation ({Pending}).
    /// @param kind The {MacdKind} of a pending change.
    /// @param charge What the open change or disconnect charged (negative: a credit); a
    /// cancellation gives back exactly this.
    /// @param operator The operator serving the asset (payee, confirms the work).
    /// @param bilateral The customer is registered: charges are stated per request ({actFor}).
    struct ServiceView {
        address customer;
        uint256 installInvoice;
        bool pendingDelete;
        bool nonPayment;
        Pending pending;
        uint8 kind;
        int256 charge;
        address operator;
        bool bilateral;
    }

    /// @notice A customer's running account for the current billing period.
    /// @param balance Accrued charges minus credits not yet billed.
    /// @param period The billing period number (1 for the first).
    /// @param lines Charges accrued in this period (a batch counts one per asset).
    /// @param openedAt When the period opened.
    struct AccountView {
        int256 balance;
        uint32 period;
        uint32 lines;
        uint64 openedAt;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `customer` is registered (bilateral terms): use {actFor} with the stated charge.
    error AgreementBilateralTerms(address customer);
    /// @notice {actFor} operation `op` is not 0 (installation), 1 (change), 2 (disconnect), 3 (monthly
    /// charge) or 4 (bulk change).
    error AgreementUnknownOperation(uint8 op);
    /// @notice The stated `charge` exceeds the ceiling `maxCharge` the customer consented to.
    error AgreementChargeAboveConsent(int256 charge, int256 maxCharge);

    /// @notice `account` may not do this (see the action table for who may).
    error AgreementUnauthorized(address account);
    /// @notice `customer` cannot be a customer: not an active member, or the operator.
    error AgreementInvalidCustomer(address customer);
    /// @notice The agreement never installed `assetId` (no customer on record).
    error AgreementUnknownService(bytes32 assetId);
    /// @notice `assetId` is already installed or its installation is requested (`state`: the
    /// twin's state; `openInvoice`: the open installation invoice, or 0).
    error AgreementDuplicateInstallation(bytes32 assetId, uint8 state, uint256 openInvoice);
    /// @notice The installation invoice `invoiceId` of `assetId` is `status`, not Funded.
    error AgreementNotFunded(bytes32 assetId, uint256 invoiceId, uint8 status);
    /// @notice The twin `assetId` is in `state`, which this step does not accept.
    error AgreementInvalidAssetState(bytes32 assetId, uint8 state);
    /// @notice `invoiceId` is not an overdue invoice of `customer` to the operator.
    error AgreementNotOverdue(uint256 invoiceId, address customer);
    /// @notice `kind` is not a MACD kind (0 .. {MACD_KINDS} - 1).
    error AgreementUnknownKind(uint8 kind);
    /// @notice A batch lists `count` assets: it needs 1 to `max`.
    error AgreementBatchInvalidSize(uint256 count, uint256 max);
    /// @notice `assetId` belongs to `customer`, not to the batch's customer.
    error AgreementMixedCustomers(bytes32 assetId, address customer);
    /// @notice `assetId`'s pending change is (`pendingDelete` true) or is not a deletion, unlike
    /// the confirmation asked for.
    error AgreementDeletionMismatch(bytes32 assetId, bool pendingDelete);
    /// @notice `customer`'s running account has nothing to bill.
    error AgreementNothingToBill(address customer);

    /// @notice `assetId` has `actual` open where the action needs `expected` ({Pending}).
    error AgreementInvalidPending(bytes32 assetId, Pending expected, Pending actual);

    /// @notice `assetId` is another customer's twin (`holder`), not `customer`'s.
    error AgreementNotCustomerAsset(bytes32 assetId, address customer, address holder);

    /// @notice The term `field` of the terms is out of range (`value`).
    error AgreementInvalidTerm(bytes32 field, int256 value);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/
    // Every event names the asset (when there is one), the customer and the ref as topics; the
    // operator is the module's single, fixed counterpart ({operator}). The twin's own moves are
    // the AssetRegistry's AssetTransitioned events (same ref); payments the escrow's events.

    /// @notice The terms in force from now on.
    event TermsSet(bytes32 indexed ref, Terms terms);

    /// @notice `requester` asked to install `assetId` for `customer`; the twin is
    /// PendingInstallation and `invoiceId` (0 if free) charges `charge`.
    event InstallationRequested(
        bytes32 indexed assetId,
        address indexed customer,
        bytes32 indexed ref,
        address requester,
        uint256 invoiceId,
        uint256 charge
    );

    /// @notice The installation of `assetId` was confirmed: the twin is Active and `invoiceId`
    /// was released to the operator.
    event InstallationConfirmed(
        bytes32 indexed assetId, address indexed customer, bytes32 indexed ref, uint256 invoiceId
    );

    /// @notice The installation request of `assetId` was withdrawn by `requester`; its invoice
    /// cancelled or refunded; the twin is back to `state` (Planned, or Recovering if delivered).
    event InstallationWithdrawn(
        bytes32 indexed assetId, address indexed customer, bytes32 indexed ref, address requester, uint8 state
    );

    /// @notice A MACD `kind` on `assetId` was ordered by `requester`; the twin is PendingChange;
    /// `charge` (negative: credit) accrued on the customer's account, now at `balance`.
    event ChangeOrdered(
        bytes32 indexed assetId,
        address indexed customer,
        bytes32 indexed ref,
        address requester,
        uint8 kind,
        int256 charge,
        int256 balance
    );

    /// @notice A MACD `kind` on every asset of `assetIds` was ordered in one batch; `charge` is
    /// the total accrued once on the customer's account, now at `balance`.
    event ChangesOrdered(
        address indexed customer,
        bytes32 indexed ref,
        uint8 indexed kind,
        address requester,
        int256 charge,
        int256 balance,
        bytes32[] assetIds
    );

    /// @notice The change of `assetId` was completed: the twin is Active, or Inactive when
    /// `deleted`.
    event ChangeConfirmed(bytes32 indexed assetId, address indexed customer, bytes32 indexed ref, bool deleted);

    /// @notice The pending change of `assetId` was cancelled before confirmation: the twin is
    /// Active again and exactly its charge was given back (`credit` = -charge), the account now
    /// at `balance`.
    event ChangeCancelled(
        bytes32 indexed assetId, address indexed customer, bytes32 indexed ref, int256 credit, int256 balance
    );

    /// @notice The changes of `assetIds` (all of `customer`) were completed in one batch.
    event ChangesConfirmed(address indexed customer, bytes32 indexed ref, bool deleted, bytes32[] assetIds);

    /// @notice A disconnect of `assetId` was ordered (by the customer; or by the operator for
    /// the non-payment of `overdueInvoiceId`); the twin is PendingDisconnect; `charge` accrued.
    event DisconnectOrdered(
        bytes32 indexed assetId,
        address indexed customer,
        bytes32 indexed ref,
        address requester,
        bool nonPayment,
        uint256 overdueInvoiceId,
        int256 charge,
        int256 balance
    );

    /// @notice The pending disconnect of `assetId` was cancelled; the twin is Active again and
    /// exactly the disconnect's recorded charge reversed (`charge` = -recorded), the account now
    /// at `balance`.
    event DisconnectCancelled(
        bytes32 indexed assetId, address indexed customer, bytes32 indexed ref, int256 charge, int256 balance
    );

    /// @notice The disconnect of `assetId` was completed: the twin is Inactive; the customer's
    /// account was billed into `invoiceId` (0: nothing, or a credit note) for `amount`.
    event DisconnectConfirmed(
        bytes32 indexed assetId, address indexed customer, bytes32 indexed ref, uint256 invoiceId, int256 amount
    );

    /// @notice `customer`'s billing `period` closed with `balance`: invoiced as `invoiceId`
    /// (balance > 0) or credited by a credit note (balance < 0, `invoiceId` 0).
    event AccountBilled(
        address indexed customer, bytes32 indexed ref, uint32 indexed period, int256 balance, uint256 invoiceId
    );

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Installation request: duplicate check, twin Planned|Inactive → PendingInstallation
    /// (a twin its order line already scheduled — PendingInstallation or Delivered — stays put),
    /// a held invoice for the installation tariff (due in `paymentDays`).
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 assetId, address customer, bytes32 detailsHash)`.
    /// @custom:who The default operator, or `customer` for itself (a customer only gets a twin the operator or its
    /// order line assigned to it). `customer` is an active member, not the operator, not registered in the
    /// CustomerRegistry (a registered one: {actFor} op 0); nothing open on the twin, no other customer's.
    function requestInstallation(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Installation confirmed by the operator once the invoice is funded: twin Delivered →
    /// Active, the invoice released to the operator (receipt) unless the payer released it already.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The asset's operator only; an installation open, its invoice Funded (or released early by the
    /// payer; none when free), the twin Delivered with a serial bound.
    function confirmInstallation(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The installation will not happen: invoice cancelled/refunded, twin
    /// PendingInstallation → Planned (Delivered → Recovering).
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The asset's operator or its customer; an installation open.
    function withdrawInstallation(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice One MACD order: twin Active → PendingChange, the kind's tariff accrued.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint8 kind, bytes32 assetId, bytes32 detailsHash)`: `kind` a {MacdKind}.
    /// @custom:who The asset's customer or the default operator, on a service on the default terms (a registered
    /// customer's: {actFor} op 1); nothing open on the asset, the twin Active.
    function orderChange(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice One MACD kind on up to {MAX_BATCH} assets of one customer, charged once.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint8 kind, bytes32[] assetIds, bytes32 detailsHash)`: `kind` a {MacdKind}.
    /// @custom:who The assets' one customer or the default operator; 1 to `MAX_BATCH` services on the default
    /// terms (a registered customer's: {actFor} op 4), nothing open on any, every twin Active.
    function orderChanges(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Completes one MACD order: PendingChange → Active (Inactive for a delete).
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The asset's operator only; a change open.
    function confirmChange(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Completes up to {MAX_BATCH} MACD orders of one customer, all deletions or none.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bool deletions, bytes32[] assetIds, bytes32 detailsHash)`.
    /// @custom:who The operator of every asset of the list; 1 to `MAX_BATCH` assets of one customer, each with a
    /// change open that is a deletion iff `deletions`.
    function confirmChanges(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Cancels the pending change of an asset before its confirmation: the twin goes back
    /// to Active and exactly the change's recorded charge is given back on the account.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The asset's operator or its customer; a change open.
    function cancelChange(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Disconnect order: twin Active → PendingDisconnect, the disconnect tariff accrued.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 assetId, uint256 overdueInvoiceId, bytes32 detailsHash)`:
    /// `overdueInvoiceId` 0 (ignored) for the customer.
    /// @custom:who The asset's customer; or the default operator naming an invoice of that customer to it that is
    /// overdue now (non-payment). A service on the default terms (a registered customer's: {actFor} op 2);
    /// nothing open on the asset, the twin Active.
    function orderDisconnect(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Withdraws a pending disconnect: PendingDisconnect → Active, tariff reversed.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The asset's operator; its customer only for a disconnect it ordered itself (not for
    /// non-payment). A disconnect open.
    function cancelDisconnect(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Completes a disconnect: PendingDisconnect → Inactive, the account billed.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 assetId, bytes32 detailsHash)`.
    /// @custom:who The asset's operator only; a disconnect open.
    function confirmDisconnect(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Closes a customer's billing period: one invoice (or credit note) for the balance.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(address customer, bytes32 detailsHash)`: `detailsHash` not read.
    /// @custom:who The operator keeping `customer`'s running account ({operatorOf}); a balance not zero.
    function billAccount(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Replaces the terms (future charges; open invoices keep theirs).
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(Terms terms)`.
    /// @custom:who No caller check: whoever the constitution lets (a vote in the example consortium).
    /// Payment days 1 to 365, installation and disconnect >= 0, every tariff within int72.
    function setTerms(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice A registered customer's installation, MACD change or disconnect with its stated
    /// charge: by the customer itself, by its operator on its own (as the plain entry points
    /// allow the operator), or by its operator for the customer with the customer's EIP-712
    /// consent (the request then counts as the customer's own, e.g. a disconnect it asked for);
    /// op 3 sets a service's monthly recurring charge, by the operator with the consent only;
    /// op 4 orders one MACD kind on a list of the customer's services at one unit charge each
    /// (its consent covers the list: action `orderChanges`, subject the list's hash, ceiling per asset).
    /// @param caller The customer, or its operator.
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint8 op, bytes inner, int256 charge, int256 maxCharge, uint256
    /// nonce, uint64 deadline, bytes signature)` (no consent: an empty signature).
    /// @custom:who A registered customer itself; its operator on its own (as the plain entry points allow an operator); its operator **for** the customer with its consent.
    function actFor(address caller, bytes32 ref, bytes calldata params) external;

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @notice The default operator: payee and confirmer for unregistered (member) customers.
    function operator() external view returns (address);

    /// @notice The operator serving `customer`: its registered operator, else the default one.
    /// A customer registered while it has services on the default terms stays the default
    /// operator's (its running account with them) until they have ended and been billed.
    /// @param customer The customer account.
    function operatorOf(address customer) external view returns (address);

    /// @notice The terms in force.
    function terms() external view returns (Terms memory);

    /// @notice The tariff of a MACD kind (`terms().macd[kind]`).
    /// @param kind The MACD kind.
    function tariff(MacdKind kind) external view returns (int256);

    /// @notice What the agreement knows of `assetId`.
    function serviceOf(bytes32 assetId) external view returns (ServiceView memory);

    /// @notice `customer`'s running account.
    function accountOf(address customer) external view returns (AccountView memory);

    /// @notice The largest batch of {orderChanges} / {confirmChanges} (256).
    function MAX_BATCH() external view returns (uint256);
}
