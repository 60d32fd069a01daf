// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ICustomerRegistry
/// @notice The operators' customers as parties (TMF629-shaped): each customer is an account
/// address (its wallet, or a member's address), the operator serving it, an optional signing
/// key, and a commitment to its name (the name itself travels encrypted, never on chain). A
/// member customer acts itself; for a non-member customer the operator submits the request
/// with the customer's EIP-712 signed {Consent}, verified here (per-customer unordered nonces,
/// a deadline, no replay). The registry also holds the commitment to each (operator, customer)
/// price list, agreed by both parties with an effective date. A Constitution module; see
/// docs/customers.md.
///
/// Actions (id `keccak256(bytes(name))`, entry point `name(address,bytes32,bytes)`): the entry
/// points below, each with its `params` and who may send it (its `custom:who` tag);
/// docs/customers.md's actions table is generated from them.
interface ICustomerRegistry {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A customer's signed consent to one request (EIP-712 typed data, domain
    /// `TelcochainCustomers` version `1`, this registry, this chain).
    /// @param customer The customer account.
    /// @param operator The operator allowed to submit the request.
    /// @param action The action's name (hashed as `keccak256(bytes(action))`, the action id).
    /// @param subject The object the request is about (asset id, order id, price-list commitment).
    /// @param kind The MACD kind for `orderChange` (0 otherwise).
    /// @param maxCharge The most the request may charge the customer (token units; a credit is negative).
    /// @param nonce Any number the customer never used before (unordered nonces).
    /// @param deadline The consent is refused after this time (unix seconds).
    struct Consent {
        address customer;
        address operator;
        bytes32 action;
        bytes32 subject;
        uint8 kind;
        int256 maxCharge;
        uint256 nonce;
        uint64 deadline;
    }

    /// @notice A customer as read by {customerOf}.
    struct CustomerView {
        address operator;
        address signer;
        uint64 addedAt;
        bool member;
        bytes32 nameHash;
    }

    /// @notice The agreed price lists of a customer: the one in force from `currentFrom` and,
    /// when agreed ahead, the next one from `nextFrom`; `version` counts the agreed lists.
    struct TermsView {
        bytes32 current;
        uint64 currentFrom;
        bytes32 next;
        uint64 nextFrom;
        uint32 version;
        bytes32 proposed;
        uint64 proposedFrom;
        address proposer;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `customer` is not a valid customer account (zero, or the operator itself).
    error CustomerInvalidAccount(address customer);
    /// @notice `customer` is already registered (served by `operator`).
    error CustomerExists(address customer, address operator);
    /// @notice `customer` is not registered.
    error CustomerUnknown(address customer);
    /// @notice `account` may not act for `customer`.
    error CustomerUnauthorized(address account, address customer);
    /// @notice The consent's deadline `deadline` has passed (now `nowTime`).
    error CustomerConsentExpired(uint64 deadline, uint256 nowTime);
    /// @notice `nonce` of `customer` was already used.
    error CustomerConsentReplayed(address customer, uint256 nonce);
    /// @notice The signature is not `signer`'s over the consent (or the customer has no signer).
    error CustomerConsentInvalidSignature(address customer, address signer);
    /// @notice The consent names `operator`, but `caller` submitted it.
    error CustomerConsentWrongOperator(address operator, address caller);
    /// @notice No proposal matching `commitment` from `effectiveFrom` is open for `customer`.
    error TermsNoProposal(address customer, bytes32 commitment, uint64 effectiveFrom);
    /// @notice The commitment is zero.
    error TermsInvalidCommitment();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `operator` registered `customer` (signing key `signer`, name commitment `nameHash`).
    event CustomerAdded(
        address indexed customer,
        address indexed operator,
        bytes32 indexed ref,
        address signer,
        bool member,
        bytes32 nameHash,
        bytes32 detailsHash
    );
    /// @notice The operator changed the customer's name commitment.
    event CustomerUpdated(
        address indexed customer, address indexed operator, bytes32 indexed ref, bytes32 nameHash, bytes32 detailsHash
    );
    /// @notice The customer's signing key changed from `previous` to `signer`.
    event CustomerSignerChanged(
        address indexed customer, address indexed operator, bytes32 indexed ref, address previous, address signer
    );
    /// @notice A consent was used (its nonce is spent).
    event ConsentUsed(
        address indexed customer,
        address indexed operator,
        bytes32 indexed ref,
        bytes32 action,
        bytes32 subject,
        uint256 nonce,
        int256 maxCharge
    );
    /// @notice `proposer` proposed the price list committed by `commitment`, in force from `effectiveFrom`.
    event TermsProposed(
        address indexed customer,
        address indexed operator,
        bytes32 indexed ref,
        address proposer,
        bytes32 commitment,
        uint64 effectiveFrom,
        bytes32 detailsHash
    );
    /// @notice Both parties agreed the price list `commitment` (number `version`), in force from `effectiveFrom`.
    event TermsAgreed(
        address indexed customer,
        address indexed operator,
        bytes32 indexed ref,
        bytes32 commitment,
        uint64 effectiveFrom,
        uint32 version
    );

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers `customer`, served by `caller`.
    /// @param caller The member that sent the action (passed on by the Constitution).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(address customer, address signer, bytes32 nameHash, bytes32 detailsHash)`.
    /// @custom:who A member granted it (operators); it becomes the customer's operator. The customer is not zero, not itself, not registered yet ({CustomerExists}).
    function addCustomer(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The operator changes the customer's name commitment.
    /// @param caller The member that sent the action (passed on by the Constitution).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(address customer, bytes32 nameHash, bytes32 detailsHash)`.
    /// @custom:who Its operator.
    function updateCustomer(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Sets or rotates the customer's signing key.
    /// @param caller The member that sent the action (passed on by the Constitution).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(address customer, address signer, uint256 nonce, uint64 deadline, bytes signature)`.
    /// @custom:who The customer itself; or its operator with the **current** key's `setSigner` consent (subject: the new key), or when no key is set yet.
    function setSigner(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice One party proposes a price list (its commitment) with an effective date.
    /// @param caller The member that sent the action (passed on by the Constitution).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(address customer, bytes32 commitment, uint64 effectiveFrom, bytes32 detailsHash)`.
    /// @custom:who The operator or the customer; replaces an open proposal.
    function proposeTerms(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice The other party accepts the open proposal.
    /// @param caller The member that sent the action (passed on by the Constitution).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(address customer, bytes32 commitment, uint64 effectiveFrom, uint256 nonce, uint64 deadline, bytes signature)`.
    /// @custom:who The party that did not propose; for a non-member customer its operator with the customer's `acceptTerms` consent (subject: the commitment).
    function acceptTerms(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Internal: verifies and spends a consent submitted by `caller` (its operator).
    /// @param caller The member that sent the action (passed on by the Constitution).
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(Consent consent, bytes signature)`.
    /// @custom:who The flows (OperatorAgreement, OrderBook), for the consent's operator.
    function useConsent(address caller, bytes32 ref, bytes calldata params) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The operator serving `customer` (zero when not registered).
    /// @param customer The customer account.
    function operatorOf(address customer) external view returns (address);

    /// @notice The registered customer.
    /// @param customer The customer account.
    function customerOf(address customer) external view returns (CustomerView memory);

    /// @notice The customer's price-list commitments.
    /// @param customer The customer account.
    function termsOf(address customer) external view returns (TermsView memory);

    /// @notice The price-list commitment in force at `time` (zero when none).
    /// @param customer The customer account.
    /// @param time Unix seconds.
    function termsAt(address customer, uint64 time) external view returns (bytes32);

    /// @notice Whether `customer` used `nonce`.
    /// @param customer The customer account.
    /// @param nonce The consent nonce.
    function nonceUsed(address customer, uint256 nonce) external view returns (bool);

    /// @notice The EIP-712 digest a customer signs for `consent`.
    /// @param consent The consent (its `action` as the action id).
    function consentDigest(Consent calldata consent) external view returns (bytes32);

    /// @notice Whether `signature` is a valid consent now (signer, deadline, unused nonce).
    /// @param consent The consent (its `action` as the action id).
    /// @param signature The customer key's signature (65 bytes) or a contract wallet's (ERC-1271).
    function checkConsent(Consent calldata consent, bytes calldata signature) external view returns (bool);
}
