// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IAgreementBilling
/// @notice The OperatorAgreement's billing extension (issue 14): line items committed to the
/// invoice, monthly recurring charges prorated to the second, credit paid out at the final
/// disconnect. See docs/agreement.md ("Billing").
///
/// Actions: the entry points below, each with its `params` and who may send it (its `custom:who`
/// tag); docs/agreement.md's actions table is generated from them (with {IOperatorAgreement}'s).
///
/// Line items: every charge on a customer's running account is a line `(asset, kind, from, to,
/// amount)`, told by one event — ChangeOrdered and ChangesOrdered (kind = {ChargeKind-Macd} + the
/// event's MACD kind; for ChangesOrdered asset = `keccak256(abi.encodePacked(assetIds))`),
/// DisconnectOrdered ({ChargeKind-Disconnect}),
/// ChangeCancelled ({ChargeKind-ChangeReversal}), DisconnectCancelled
/// ({ChargeKind-DisconnectReversal}), {RecurringAccrued} ({ChargeKind-Recurring}, with from/to; one-off
/// charges have 0, 0).
/// The period's digest starts at `keccak256(abi.encode(customer, period))` and each line makes
/// it `keccak256(abi.encode(digest, asset, uint8 kind, uint64 from, uint64 to, int256 amount))`;
/// the closing digest is the subject of the period's invoice (or credit note) and of
/// {PeriodClosed}: the bill commits to exactly its lines, in order.
///
/// Recurring charges: a service confirmed at `start` at `monthly` tokens per {MONTH} has been
/// charged `floor(monthly * (t - start) / MONTH)` up to `t`; each accrual charges the difference
/// since the last one, so any sequence of accruals sums to the unit to the single formula over
/// the whole service (prorated to the second at installation and at the end).
///
/// Whose rate: a service of an unregistered (member) customer gets the agreement's one rate
/// ({setMonthlyCharge}) at its confirmation. A registered customer's prices are bilateral and
/// off chain, so its service's monthly charge is stated per service and agreed by both parties:
/// its operator files `actFor` op 3 (`inner = abi.encode(assetId)`, `charge` = the monthly)
/// with the customer's EIP-712 consent (action `recurringCharge`, subject the asset, the
/// ceiling `maxCharge`); without it the rate is 0. A new rate counts from that second (what
/// ran at the old rate is accrued first and `start` moves to now). Emits {RecurringChargeAgreed}.
interface IAgreementBilling {
    /// @notice What a line item charges for. The MACD kinds come last, without a value each:
    /// the line kind of MACD kind `k` ({IOperatorAgreement-MacdKind}) is `uint8(Macd) + k` (so a
    /// new MACD kind needs no change here and renumbers no other kind). Keep `Macd` last: a new
    /// non-MACD kind goes before it.
    enum ChargeKind {
        Disconnect,
        Recurring,
        ChangeReversal,
        DisconnectReversal,
        Macd
    }

    /// @notice The recurring side of a service.
    /// @param start When the service was confirmed (0: not yet).
    /// @param billedTo Recurring charges accrued up to then.
    /// @param monthly Its monthly charge (token units per {MONTH}).
    /// @param accrued What has accrued since `start` (the formula at `billedTo`).
    struct RecurringView {
        uint64 start;
        uint64 billedTo;
        uint256 monthly;
        uint256 accrued;
    }

    /// @notice `assetId` has no started service to charge (not confirmed yet).
    error AgreementNotStarted(bytes32 assetId);

    /// @notice The monthly charge of services confirmed from now on.
    event MonthlyChargeSet(bytes32 indexed ref, uint256 monthly);

    /// @notice A registered customer's service `assetId` runs at `monthly` from now on, agreed by
    /// its operator and the customer's consent ({IOperatorAgreement-actFor} op 3).
    event RecurringChargeAgreed(bytes32 indexed assetId, address indexed customer, bytes32 indexed ref, uint256 monthly);

    /// @notice `assetId` was charged `amount` for the seconds `from` .. `to` at its monthly
    /// charge; `customer`'s account is now at `balance`.
    event RecurringAccrued(
        bytes32 indexed assetId,
        address indexed customer,
        bytes32 indexed ref,
        uint64 from,
        uint64 to,
        int256 amount,
        int256 balance
    );

    /// @notice `customer`'s `period` closed with `lines` line items committed to `digest` (the
    /// subject of its invoice or credit note).
    event PeriodClosed(address indexed customer, uint32 indexed period, bytes32 indexed ref, bytes32 digest, uint32 lines);

    /// @notice The operator accrues the recurring charges of started services up to now (one line
    /// per asset with a non-zero amount).
    /// @dev Requirements: `caller` is each asset's operator; 1 .. MAX_BATCH assets; each served and started
    /// ({AgreementNotStarted}). Emits {RecurringAccrued} per line.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(bytes32[] assetIds)`.
    /// @custom:who The operator of every asset of the list; 1 to `MAX_BATCH` served assets, each installed
    /// (confirmed) and not ended.
    function accrueRecurring(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Sets the monthly charge of services confirmed from now on (a voted action).
    /// @dev Requirements: fits int72. Emits {MonthlyChargeSet}.
    /// @param caller The member the Constitution checked the grant of (see `custom:who`).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(uint256 monthly)`: token units per `MONTH`, within int72.
    /// @custom:who No caller check: whoever the constitution lets (a vote in the example consortium). Applies to
    /// the default operator's (unregistered) customers' services confirmed from now on.
    function setMonthlyCharge(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Seconds in a billing month for recurring charges (30 days).
    function MONTH() external view returns (uint64);

    /// @notice The monthly charge a service of `customer` on `assetId` confirmed now would get.
    function monthlyCharge(address customer, bytes32 assetId) external view returns (uint256);

    /// @notice The recurring side of `assetId`'s service.
    function recurringOf(bytes32 assetId) external view returns (RecurringView memory);

    /// @notice The current period's line digest of `customer`.
    function linesDigest(address customer) external view returns (bytes32);

    /// @notice Services `customer` has under the agreement (requested and not ended).
    function serviceCount(address customer) external view returns (uint256);
}
