// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConstitution} from "./interfaces/IConstitution.sol";
import {ICustomerRegistry} from "./interfaces/ICustomerRegistry.sol";
import {ConstitutionModule} from "./modules/ConstitutionModule.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title CustomerRegistry
/// @notice The operators' customers, their EIP-712 consents and the commitments to their
/// bilateral price lists. A Constitution module: see {ICustomerRegistry} and docs/customers.md.
/// @dev Design notes:
/// - A customer is an account address: a member's address (it then acts itself) or a wallet
///   that never sends a transaction (its operator submits its requests with its signed
///   consent). The operator is the member that registered it, fixed for the customer's life,
///   so every service record of the agreement keeps one payee.
/// - Nonces are unordered (a bitmap per customer, as Permit2): consents signed for several
///   requests can be used in any order, each once.
/// - Signatures: an EOA key (OpenZeppelin ECDSA, low-s enforced) or a contract wallet (ERC-1271),
///   as OpenZeppelin's SignatureChecker does (not imported: its 5.4 dependencies need Cancun's MCOPY).
/// - Names never reach the chain: `nameHash` commits to the encrypted name the operator keeps
///   (or discloses through the DetailsVault); price lists likewise (`commitment`).
contract CustomerRegistry is ICustomerRegistry, ConstitutionModule, EIP712 {
    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Slot 0: operator and registration time; slot 1 the signing key; slot 2 the name commitment.
    struct Customer {
        address operator;
        uint64 addedAt;
        address signer;
        bytes32 nameHash;
    }

    /// @dev The agreed price lists: current and scheduled commitments, then their dates and the count.
    struct Terms {
        bytes32 current;
        bytes32 next;
        uint64 currentFrom;
        uint64 nextFrom;
        uint32 version;
    }

    /// @dev The open proposal (one per customer; a new one replaces it).
    struct Proposal {
        bytes32 commitment;
        address proposer;
        uint64 effectiveFrom;
    }

    /// @notice The EIP-712 type of a {Consent} (`action` is a string: its hash is the action id).
    bytes32 public constant CONSENT_TYPEHASH = keccak256(
        "Consent(address customer,address operator,string action,bytes32 subject,uint8 kind,int256 maxCharge,uint256 nonce,uint64 deadline)"
    );

    bytes32 private constant _SET_SIGNER = keccak256("setSigner");
    bytes32 private constant _ACCEPT_TERMS = keccak256("acceptTerms");

    mapping(address customer => Customer) private _customers;
    mapping(address customer => Terms) private _terms;
    mapping(address customer => Proposal) private _proposals;
    mapping(address customer => mapping(uint256 word => uint256 bits)) private _nonces;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param constitution The Constitution whose actions this module implements.
    constructor(IConstitution constitution) ConstitutionModule(constitution) EIP712("TelcochainCustomers", "1") {}

    /*//////////////////////////////////////////////////////////////
                           ACTIONS: CUSTOMERS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICustomerRegistry
    /// @dev Requirements: `customer` is not zero nor `caller` ({CustomerInvalidAccount}) and not
    /// yet registered ({CustomerExists}). `caller` becomes its operator. Emits {CustomerAdded}.
    function addCustomer(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (address customer, address signer, bytes32 nameHash, bytes32 detailsHash) =
            abi.decode(params, (address, address, bytes32, bytes32));
        if (customer == address(0) || customer == caller) revert CustomerInvalidAccount(customer);
        Customer storage c = _customers[customer];
        if (c.operator != address(0)) revert CustomerExists(customer, c.operator);
        (c.operator, c.addedAt, c.signer, c.nameHash) = (caller, uint64(block.timestamp), signer, nameHash);
        emit CustomerAdded(
            customer, caller, ref, signer, CONSTITUTION.isActiveMember(customer), nameHash, detailsHash
        );
    }

    /// @inheritdoc ICustomerRegistry
    /// @dev Requirements: `caller` is the customer's operator ({CustomerUnauthorized}).
    /// Emits {CustomerUpdated}.
    function updateCustomer(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (address customer, bytes32 nameHash, bytes32 detailsHash) = abi.decode(params, (address, bytes32, bytes32));
        Customer storage c = _known(customer);
        if (caller != c.operator) revert CustomerUnauthorized(caller, customer);
        c.nameHash = nameHash;
        emit CustomerUpdated(customer, caller, ref, nameHash, detailsHash);
    }

    /// @inheritdoc ICustomerRegistry
    /// @dev The operator cannot swap a customer's key by itself: with a key set, the current
    /// key signs the change (action `setSigner`, subject the new key as bytes32). Requirements:
    /// `caller` is the customer, or its operator with that consent (or when no key is set)
    /// ({CustomerUnauthorized}, consent errors). Emits {CustomerSignerChanged}.
    function setSigner(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (address customer, address signer, uint256 nonce, uint64 deadline, bytes memory signature) =
            abi.decode(params, (address, address, uint256, uint64, bytes));
        Customer storage c = _known(customer);
        address previous = c.signer;
        address operator_ = c.operator;
        if (caller != customer) {
            if (caller != operator_) revert CustomerUnauthorized(caller, customer);
            if (previous != address(0)) {
                Consent memory consent = Consent(
                    customer, operator_, _SET_SIGNER, bytes32(uint256(uint160(signer))), 0, 0, nonce, deadline
                );
                _spend(consent, signature, caller, ref);
            }
        }
        c.signer = signer;
        emit CustomerSignerChanged(customer, operator_, ref, previous, signer);
    }

    /*//////////////////////////////////////////////////////////////
                             ACTIONS: TERMS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICustomerRegistry
    /// @dev Requirements: `caller` is the customer's operator or the customer
    /// ({CustomerUnauthorized}); a non-zero commitment ({TermsInvalidCommitment}). Replaces an
    /// open proposal. Emits {TermsProposed}.
    function proposeTerms(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (address customer, bytes32 commitment, uint64 effectiveFrom, bytes32 detailsHash) =
            abi.decode(params, (address, bytes32, uint64, bytes32));
        address operator_ = _known(customer).operator;
        if (caller != operator_ && caller != customer) revert CustomerUnauthorized(caller, customer);
        if (commitment == bytes32(0)) revert TermsInvalidCommitment();
        _proposals[customer] = Proposal(commitment, caller, effectiveFrom);
        emit TermsProposed(customer, operator_, ref, caller, commitment, effectiveFrom, detailsHash);
    }

    /// @inheritdoc ICustomerRegistry
    /// @dev Requirements: an open proposal with exactly this commitment and date
    /// ({TermsNoProposal}); `caller` is the party that did not propose it, or the operator
    /// accepting its own proposal for the customer with the customer's consent (action
    /// `acceptTerms`, subject the commitment) ({CustomerUnauthorized}, consent errors). The list is
    /// in force from `effectiveFrom`, or now if that has passed: it becomes the current list,
    /// or the next one (replacing a list scheduled earlier). Emits {TermsAgreed}.
    function acceptTerms(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (
            address customer,
            bytes32 commitment,
            uint64 effectiveFrom,
            uint256 nonce,
            uint64 deadline,
            bytes memory signature
        ) = abi.decode(params, (address, bytes32, uint64, uint256, uint64, bytes));
        address operator_ = _known(customer).operator;
        Proposal memory p = _proposals[customer];
        if (p.commitment == bytes32(0) || p.commitment != commitment || p.effectiveFrom != effectiveFrom) {
            revert TermsNoProposal(customer, commitment, effectiveFrom);
        }
        if (p.proposer == operator_) {
            if (caller == operator_) {
                _spend(Consent(customer, operator_, _ACCEPT_TERMS, commitment, 0, 0, nonce, deadline), signature, caller, ref);
            } else if (caller != customer) {
                revert CustomerUnauthorized(caller, customer);
            }
        } else if (caller != operator_) {
            revert CustomerUnauthorized(caller, customer);
        }
        delete _proposals[customer];
        uint64 from = effectiveFrom > block.timestamp ? effectiveFrom : uint64(block.timestamp);
        Terms storage t = _terms[customer];
        _roll(t);
        if (from > block.timestamp) (t.next, t.nextFrom) = (commitment, from);
        else (t.current, t.currentFrom, t.next, t.nextFrom) = (commitment, from, bytes32(0), 0);
        uint32 version = t.version + 1;
        t.version = version;
        emit TermsAgreed(customer, operator_, ref, commitment, from, version);
    }

    /*//////////////////////////////////////////////////////////////
                            ACTIONS: CONSENT
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICustomerRegistry
    /// @dev Internal (the flows call it with the consent they rebuilt from the request they
    /// execute, so a signature over another action, object, kind or ceiling does not verify).
    /// Requirements: the customer is registered to `caller`, which the consent names
    /// ({CustomerConsentWrongOperator}, {CustomerUnauthorized}, also for an empty signature); the deadline has not passed
    /// ({CustomerConsentExpired}); the nonce is unused ({CustomerConsentReplayed}); the
    /// customer's key signed it ({CustomerConsentInvalidSignature}). Emits {ConsentUsed}.
    function useConsent(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (Consent memory consent, bytes memory signature) = abi.decode(params, (Consent, bytes));
        _spend(consent, signature, caller, ref);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICustomerRegistry
    function operatorOf(address customer) external view returns (address) {
        return _customers[customer].operator;
    }

    /// @inheritdoc ICustomerRegistry
    function customerOf(address customer) external view returns (CustomerView memory) {
        Customer storage c = _customers[customer];
        return CustomerView(c.operator, c.signer, c.addedAt, CONSTITUTION.isActiveMember(customer), c.nameHash);
    }

    /// @inheritdoc ICustomerRegistry
    function termsOf(address customer) external view returns (TermsView memory v) {
        Terms memory t = _terms[customer];
        Proposal memory p = _proposals[customer];
        if (t.next != bytes32(0) && t.nextFrom <= block.timestamp) {
            (t.current, t.currentFrom, t.next, t.nextFrom) = (t.next, t.nextFrom, bytes32(0), 0);
        }
        v = TermsView(t.current, t.currentFrom, t.next, t.nextFrom, t.version, p.commitment, p.effectiveFrom, p.proposer);
    }

    /// @inheritdoc ICustomerRegistry
    function termsAt(address customer, uint64 time) external view returns (bytes32) {
        Terms storage t = _terms[customer];
        if (t.next != bytes32(0) && time >= t.nextFrom) return t.next;
        return time >= t.currentFrom ? t.current : bytes32(0);
    }

    /// @inheritdoc ICustomerRegistry
    function nonceUsed(address customer, uint256 nonce) public view returns (bool) {
        return _nonces[customer][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc ICustomerRegistry
    function consentDigest(Consent calldata consent) external view returns (bytes32) {
        return _digest(consent);
    }

    /// @inheritdoc ICustomerRegistry
    function checkConsent(Consent calldata consent, bytes calldata signature) external view returns (bool) {
        Customer storage c = _customers[consent.customer];
        return c.operator == consent.operator && c.operator != address(0) && consent.deadline >= block.timestamp
            && !nonceUsed(consent.customer, consent.nonce) && c.signer != address(0)
            && _isValidSignature(c.signer, _digest(consent), signature);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _known(address customer) private view returns (Customer storage c) {
        c = _customers[customer];
        if (c.operator == address(0)) revert CustomerUnknown(customer);
    }

    /// @dev A scheduled list whose date has come becomes the current one.
    function _roll(Terms storage t) private {
        bytes32 next = t.next;
        if (next != bytes32(0) && t.nextFrom <= block.timestamp) {
            (t.current, t.currentFrom, t.next, t.nextFrom) = (next, t.nextFrom, bytes32(0), 0);
        }
    }

    function _digest(Consent memory c) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    CONSENT_TYPEHASH, c.customer, c.operator, c.action, c.subject, c.kind, c.maxCharge, c.nonce, c.deadline
                )
            )
        );
    }

    /// @dev `signer`'s signature over `digest`: ECDSA for a key, ERC-1271 for a contract wallet.
    function _isValidSignature(address signer, bytes32 digest, bytes memory signature) private view returns (bool) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        if (signer.code.length == 0) return false;
        try IERC1271(signer).isValidSignature(digest, signature) returns (bytes4 magic) {
            return magic == IERC1271.isValidSignature.selector;
        } catch {
            return false;
        }
    }

    /// @dev Verifies `consent` submitted by `caller` and spends its nonce (see {useConsent}).
    function _spend(Consent memory consent, bytes memory signature, address caller, bytes32 ref) private {
        address customer = consent.customer;
        if (consent.operator != caller) revert CustomerConsentWrongOperator(consent.operator, caller);
        Customer storage c = _known(customer);
        // not its operator, or no consent at all
        if (c.operator != caller || signature.length == 0) revert CustomerUnauthorized(caller, customer);
        if (consent.deadline < block.timestamp) revert CustomerConsentExpired(consent.deadline, block.timestamp);
        _useNonce(customer, consent.nonce);
        address signer = c.signer;
        if (signer == address(0) || !_isValidSignature(signer, _digest(consent), signature)) {
            revert CustomerConsentInvalidSignature(customer, signer);
        }
        emit ConsentUsed(customer, caller, ref, consent.action, consent.subject, consent.nonce, consent.maxCharge);
    }

    /// @dev Spends `nonce` of `customer` ({CustomerConsentReplayed} if spent).
    function _useNonce(address customer, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        mapping(uint256 => uint256) storage words = _nonces[customer];
        uint256 word = words[nonce >> 8];
        if (word & bit != 0) revert CustomerConsentReplayed(customer, nonce);
        words[nonce >> 8] = word | bit;
    }
}
