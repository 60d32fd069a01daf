// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IVendorSettlement
/// @notice Vendor settlement (issue 14): the three-way match the OrderBook's stock ledger holds —
/// a purchase-order line (its reserved units), its delivery (delivered, consumed, returned) and
/// the vendor's invoice — checked on chain; the invoice is issued through the EscrowPayment
/// (payer the operator, payee the vendor) and paid through at once when the operator funds it;
/// returned units already invoiced become a credit note the vendor owes the operator (applied to
/// its next invoices, or paid out). A Constitution module; see docs/agreement.md ("Vendor settlement").
///
/// Actions: the entry points below, each with its `params` and who may send it (its `custom:who`
/// tag); docs/agreement.md's actions table is generated from them.
///
/// The match: a line may be invoiced up to its *billable* units, `delivered - returned` (terms
/// "on delivery") or `consumed` (terms "on consumption"), never more than it reserved; each
/// invoice is `quantity * unitPrice`. When returns push the billable units below what was
/// invoiced (net of earlier credits), `creditReturns` credits the difference at the same price.
interface IVendorSettlement {
    /// @notice Terms of a vendor's SKU.
    struct VendorTerms {
        address token;
        uint96 unitPrice;
        uint32 paymentDays;
        bool onConsumption;
    }

    /// @notice A line's settlement figures.
    /// @param billable Units the match allows now (delivered − returned, or consumed).
    /// @param invoiced Units invoiced so far.
    /// @param credited Units credited back (returns after invoicing).
    struct LineSettlement {
        uint256 reserved;
        uint256 billable;
        uint256 invoiced;
        uint256 credited;
        uint256 unitPrice;
        address token;
        bool onConsumption;
    }

    /// @notice No terms for `vendor`'s `sku`.
    error VendorNoTerms(address vendor, bytes16 sku);
    /// @notice Terms need a token, a price of 1 or more and 1 to 365 payment days.
    error VendorInvalidTerms(address vendor, bytes16 sku);
    /// @notice `account` may not do this for line `lineId`.
    error VendorUnauthorized(bytes32 lineId, address account);
    /// @notice No reserved purchase-order line `lineId`.
    error VendorUnknownLine(bytes32 lineId);
    /// @notice `quantity` exceeds the `available` units of `lineId` the match allows.
    error VendorOverInvoiced(bytes32 lineId, uint256 quantity, uint256 available);
    /// @notice Nothing of `lineId` to credit.
    error VendorNothingToCredit(bytes32 lineId);

    /// @notice Terms for `vendor`'s `sku`.
    event VendorTermsSet(address indexed vendor, bytes16 indexed sku, bytes32 indexed ref, VendorTerms terms);
    /// @notice `vendor` invoiced `quantity` units of `lineId` (`invoiced` in total): `invoiceId` for `amount`.
    event VendorInvoiced(
        bytes32 indexed lineId,
        address indexed vendor,
        bytes32 indexed ref,
        uint256 invoiceId,
        uint32 quantity,
        uint256 amount,
        uint256 invoiced,
        bytes32 vendorRef
    );
    /// @notice `quantity` invoiced units of `lineId` came back: `amount` credited to the operator.
    event VendorCredited(
        bytes32 indexed lineId, address indexed vendor, bytes32 indexed ref, uint32 quantity, uint256 amount
    );

    /// @notice Sets the terms of `vendor`'s `sku` (a voted action). Emits {VendorTermsSet}.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(address vendor, bytes16 sku, VendorTerms terms)`.
    /// @custom:who No caller check: whoever the constitution lets (a vote in the example consortium). A vendor
    /// other than the operator, a token, a unit price of 1 or more, 1 to 365 payment days.
    function setVendorTerms(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice The line's vendor invoices `quantity` matched units. Emits {VendorInvoiced}.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 lineId, uint32 quantity, bytes32 vendorRef)`: `vendorRef` the vendor's own
    /// invoice reference.
    /// @custom:who The line's vendor only; a reserved purchase-order line with terms for its SKU, `quantity` 1 to
    /// its matched units not yet invoiced.
    function invoiceLine(address caller, bytes32 ref, bytes calldata params) external;
    /// @notice Credits invoiced units that were returned. Emits {VendorCredited}.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32 lineId)`.
    /// @custom:who The operator or the line's vendor; more units invoiced (net of credits) than the match allows
    /// now.
    function creditReturns(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The operator (payer of every vendor invoice).
    function operator() external view returns (address);
    /// @notice The terms of `vendor`'s `sku`.
    function termsOf(address vendor, bytes16 sku) external view returns (VendorTerms memory);
    /// @notice The settlement of line `lineId`.
    function lineSettlement(bytes32 lineId) external view returns (LineSettlement memory);
}
