// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConstitution} from "./interfaces/IConstitution.sol";
import {IOrderBook} from "./interfaces/IOrderBook.sol";
import {IVendorSettlement} from "./interfaces/IVendorSettlement.sol";
import {ConstitutionModule} from "./modules/ConstitutionModule.sol";

/// @title VendorSettlement
/// @notice The three-way match (purchase-order line, delivery, vendor invoice) and the vendor's
/// invoices and credits through the EscrowPayment. A Constitution module: see {IVendorSettlement}.
/// @dev Reads the OrderBook's line (one view call); issues through the escrow's Internal
/// `issueInvoice` / `issueCreditNote` (this module must be among their callers). Per line one
/// slot (invoiced, credited); per (vendor, SKU) two slots of terms.
contract VendorSettlement is IVendorSettlement, ConstitutionModule {
    struct Billed {
        uint32 invoiced;
        uint32 credited;
    }

    bytes32 private constant _ISSUE_INVOICE = keccak256("issueInvoice");
    bytes32 private constant _ISSUE_CREDIT_NOTE = keccak256("issueCreditNote");

    /// @notice The order book holding the lines and their stock figures.
    IOrderBook public immutable ORDERS;
    address private immutable _OPERATOR;

    mapping(bytes32 vendorSku => VendorTerms) private _terms;
    mapping(bytes32 lineId => Billed) private _billed;

    /// @param constitution The Constitution whose actions this module implements.
    /// @param orders The OrderBook.
    /// @param operator_ The operator: payer of the vendor invoices.
    constructor(IConstitution constitution, IOrderBook orders, address operator_) ConstitutionModule(constitution) {
        if (operator_ == address(0)) revert VendorUnauthorized(bytes32(0), operator_);
        (ORDERS, _OPERATOR) = (orders, operator_);
    }

    /// @inheritdoc IVendorSettlement
    /// @dev Requirements: a vendor and token, a unit price >= 1, 1 .. 365 payment days ({VendorInvalidTerms}).
    function setVendorTerms(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        (address vendor, bytes16 sku, VendorTerms memory t) = abi.decode(params, (address, bytes16, VendorTerms));
        if (vendor == address(0) || vendor == _OPERATOR || t.token == address(0) || t.unitPrice == 0 || t.paymentDays == 0 || t.paymentDays > 365) {
            revert VendorInvalidTerms(vendor, sku);
        }
        _terms[_key(vendor, sku)] = t;
        emit VendorTermsSet(vendor, sku, ref, t);
    }

    /// @inheritdoc IVendorSettlement
    /// @dev Requirements: a reserved line ({VendorUnknownLine}); `caller` its vendor
    /// ({VendorUnauthorized}); terms for its SKU ({VendorNoTerms}); 1 .. the unbilled matched
    /// units ({VendorOverInvoiced}). Issues the escrow invoice (payer the operator, not held).
    function invoiceLine(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 lineId, uint32 quantity, bytes32 vendorRef) = abi.decode(params, (bytes32, uint32, bytes32));
        (VendorTerms memory t, uint32 invoiced) = _match(lineId, caller, quantity);
        uint256 amount = uint256(quantity) * t.unitPrice;
        uint256 invoiceId = _issue(caller, t, amount, lineId, ref);
        emit VendorInvoiced(lineId, caller, ref, invoiceId, quantity, amount, invoiced, vendorRef);
    }

    /// @dev The three-way match of `quantity` more units of `lineId` invoiced by `caller`; records them.
    function _match(bytes32 lineId, address caller, uint32 quantity)
        private
        returns (VendorTerms memory t, uint32 invoiced)
    {
        IOrderBook.LineView memory line = _line(lineId);
        if (caller != line.vendor) revert VendorUnauthorized(lineId, caller);
        t = _termsFor(line.vendor, line.sku);
        Billed storage b = _billed[lineId];
        uint256 net = uint256(b.invoiced) - b.credited;
        uint256 billable = _billable(line, t.onConsumption);
        uint256 available = billable > net ? billable - net : 0;
        if (quantity == 0 || quantity > available) revert VendorOverInvoiced(lineId, quantity, available);
        invoiced = b.invoiced + quantity;
        b.invoiced = invoiced;
    }

    function _issue(address vendor, VendorTerms memory t, uint256 amount, bytes32 lineId, bytes32 ref)
        private
        returns (uint256)
    {
        uint64 due = uint64(block.timestamp) + uint64(t.paymentDays) * 1 days;
        bytes memory out =
            _executeInternal(_ISSUE_INVOICE, ref, abi.encode(_OPERATOR, vendor, t.token, amount, due, false, lineId));
        return abi.decode(out, (uint256));
    }

    /// @inheritdoc IVendorSettlement
    /// @dev Requirements: a reserved line; `caller` the operator or its vendor; invoiced units
    /// (net of credits) above the billable ones ({VendorNothingToCredit}).
    function creditReturns(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        bytes32 lineId = abi.decode(params, (bytes32));
        IOrderBook.LineView memory line = _line(lineId);
        if (caller != line.vendor && caller != _OPERATOR) revert VendorUnauthorized(lineId, caller);
        VendorTerms memory t = _termsFor(line.vendor, line.sku);
        Billed storage b = _billed[lineId];
        uint256 net = uint256(b.invoiced) - b.credited;
        uint256 billable = _billable(line, t.onConsumption);
        if (net <= billable) revert VendorNothingToCredit(lineId);
        uint32 quantity = uint32(net - billable);
        b.credited += quantity;
        uint256 amount = uint256(quantity) * t.unitPrice;
        _executeInternal(_ISSUE_CREDIT_NOTE, ref, abi.encode(_OPERATOR, line.vendor, t.token, amount, lineId));
        emit VendorCredited(lineId, line.vendor, ref, quantity, amount);
    }

    /// @inheritdoc IVendorSettlement
    function operator() external view returns (address) {
        return _OPERATOR;
    }

    /// @inheritdoc IVendorSettlement
    function termsOf(address vendor, bytes16 sku) external view returns (VendorTerms memory) {
        return _terms[_key(vendor, sku)];
    }

    /// @inheritdoc IVendorSettlement
    function lineSettlement(bytes32 lineId) external view returns (LineSettlement memory v) {
        IOrderBook.LineView memory line = ORDERS.getLine(lineId);
        VendorTerms memory t = _terms[_key(line.vendor, line.sku)];
        Billed storage b = _billed[lineId];
        v = LineSettlement({
            reserved: line.reserved,
            billable: _billable(line, t.onConsumption),
            invoiced: b.invoiced,
            credited: b.credited,
            unitPrice: t.unitPrice,
            token: t.token,
            onConsumption: t.onConsumption
        });
    }

    function _line(bytes32 lineId) private view returns (IOrderBook.LineView memory line) {
        line = ORDERS.getLine(lineId);
        if (line.vendor == address(0) || line.reserved == 0) revert VendorUnknownLine(lineId);
    }

    function _termsFor(address vendor, bytes16 sku) private view returns (VendorTerms memory t) {
        t = _terms[_key(vendor, sku)];
        if (t.token == address(0)) revert VendorNoTerms(vendor, sku);
    }

    /// @dev Units the match allows: consumed, or delivered − returned; never above the reservation.
    function _billable(IOrderBook.LineView memory line, bool onConsumption) private pure returns (uint256 n) {
        n = onConsumption ? line.consumed : uint256(line.delivered) - line.returned;
        if (n > line.reserved) n = line.reserved;
    }

    function _key(address vendor, bytes16 sku) private pure returns (bytes32) {
        return keccak256(abi.encode(vendor, sku));
    }
}
