// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IDetailsVault
/// @notice Visibility constraints (seed 001, "M1 → M2 → M3"): the details of an action that are
/// not public travel on chain encrypted, readable only by the members they were disclosed to.
/// A module of the Constitution; see docs/visibility.md.
///
/// The client encrypts the details with a fresh symmetric key and wraps that key for each
/// recipient with the recipient's trust key (the X25519 public key registered in the
/// Constitution). This contract only carries the result in events and keeps, per disclosure,
/// what access control needs: the discloser (the only member who may grant more access), the
/// subject, the commitment `detailsHash` and the block of the disclosure (where its ciphertext
/// is found). Ciphertext and wrapped keys are never stored.
///
/// A disclosure is identified by `disclosureId(discloser, ref) = keccak256(abi.encode(discloser, ref))`,
/// `ref` being the one of its `disclose` action: unique per discloser, so a member who copies
/// another member's pending `disclose` (same ref, e.g. front-running it in a validator's pool)
/// gets an id of its own and neither blocks nor takes the other's. Clients compute the id
/// before sending (the SDK binds the encrypted payload to it).
///
/// Actions (id `keccak256(bytes(name))`, entry point `name(address,bytes32,bytes)`): the entry
/// points below, each with its `params` and who may send it (its `custom:who` tag);
/// docs/visibility.md's actions table is generated from them.
///
/// Recipients must be active members; a disclosure has 1 to {MAX_RECIPIENTS} distinct
/// recipients; `wrappedKeys[i]` is the key wrapped for `recipients[i]`.
interface IDetailsVault {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A disclosure as returned by {disclosure}.
    /// @param discloser The member who disclosed (zero: no such disclosure).
    /// @param blockNumber The block whose {Disclosed} event holds the ciphertext.
    /// @param subject The shared object (asset, order, line...) the details are about.
    /// @param detailsHash The commitment to the plaintext (docs/visibility.md).
    struct DisclosureView {
        address discloser;
        uint64 blockNumber;
        bytes32 subject;
        bytes32 detailsHash;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice A zero ref, subject or detailsHash was given to {disclose}.
    error VaultInvalidId();
    /// @notice This discloser already used this ref for a disclosure (id `disclosure`).
    error VaultDisclosureExists(bytes32 disclosure);
    /// @notice No disclosure has this id.
    error VaultUnknownDisclosure(bytes32 disclosure);
    /// @notice Only the member who made the disclosure may grant access to it.
    error VaultNotDiscloser(bytes32 disclosure, address caller);
    /// @notice The ciphertext is empty or longer than {MAX_CIPHERTEXT} bytes.
    error VaultInvalidCiphertext(uint256 length, uint256 max);
    /// @notice The recipient list is empty, longer than {MAX_RECIPIENTS}, or its length
    /// differs from that of the wrapped keys (`keys`).
    error VaultInvalidRecipients(uint256 count, uint256 keys, uint256 max);
    /// @notice `recipient` appears twice in the recipient list.
    error VaultDuplicateRecipient(address recipient);
    /// @notice `recipient` is not an active member of the consortium.
    error VaultRecipientNotMember(address recipient);
    /// @notice The key wrapped for `recipient` is empty or longer than {MAX_WRAPPED_KEY} bytes.
    error VaultInvalidWrappedKey(address recipient, uint256 length);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `discloser` disclosed encrypted details about `subject` to `recipients` members
    /// (one {KeyWrapped} each follows). `disclosure` is its id, `disclosureId(discloser, ref)`;
    /// `ref` is the ref of the `disclose` action.
    event Disclosed(
        bytes32 indexed disclosure,
        bytes32 indexed subject,
        address indexed discloser,
        bytes32 ref,
        bytes32 detailsHash,
        uint256 recipients,
        bytes ciphertext
    );

    /// @notice The key of disclosure `disclosure` (its id) was wrapped for `recipient`, whose
    /// trust key was `trustKey` at the time (a hint: which of its keys opens `wrappedKey`). `ref`
    /// is the action's ref: the `disclose` action's for the initial recipients, the grant's for
    /// a member added by {grantAccess}.
    event KeyWrapped(
        address indexed recipient, bytes32 indexed disclosure, bytes32 indexed ref, bytes32 trustKey, bytes wrappedKey
    );

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Discloses encrypted details to some members; the disclosure's id is
    /// {disclosureId}`(caller, ref)`.
    /// @param caller The discloser.
    /// @param ref The action's ref: non-zero, and never used before by this discloser for a
    /// disclosure (another member's disclosure with the same ref does not matter).
    /// @param params `abi.encode(bytes32 subject, bytes32 detailsHash, bytes ciphertext,
    /// address[] recipients, bytes[] wrappedKeys)`.
    /// @dev Requirements: subject and detailsHash non-zero, the id unused
    /// ({VaultDisclosureExists}); 1 to {MAX_CIPHERTEXT} bytes of
    /// ciphertext; 1 to {MAX_RECIPIENTS} distinct recipients, each an active member, with one
    /// wrapped key each (1 to {MAX_WRAPPED_KEY} bytes). Emits {Disclosed} then one
    /// {KeyWrapped} per recipient.
    /// @custom:who Any permitted member.
    function disclose(address caller, bytes32 ref, bytes calldata params) external;

    /// @notice Lets one more member read a disclosure: its key, wrapped for `recipient`.
    /// @param caller Must be the disclosure's discloser.
    /// @param ref The grant's correlation id.
    /// @param params `abi.encode(bytes32 disclosure, address recipient, bytes wrappedKey)`,
    /// `disclosure` being the id ({disclosureId}).
    /// @dev Requirements: the disclosure exists, `caller` made it, `recipient` is an active
    /// member, the wrapped key is 1 to {MAX_WRAPPED_KEY} bytes. Granting again to a recipient
    /// (e.g. re-wrapped to its new trust key) is allowed. Emits {KeyWrapped}.
    /// @custom:who The disclosure's discloser only.
    function grantAccess(address caller, bytes32 ref, bytes calldata params) external;

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @notice The most recipients of one disclosure.
    function MAX_RECIPIENTS() external view returns (uint256);

    /// @notice The longest ciphertext of one disclosure, in bytes.
    function MAX_CIPHERTEXT() external view returns (uint256);

    /// @notice The longest wrapped key, in bytes.
    function MAX_WRAPPED_KEY() external view returns (uint256);

    /// @notice Disclosure `id` (all zero if there is none).
    /// @param id The disclosure's id ({disclosureId}).
    /// @return The discloser, block, subject and commitment of the disclosure.
    function disclosure(bytes32 id) external view returns (DisclosureView memory);

    /// @notice The id of the disclosure `discloser` makes with a `disclose` action of ref `ref`.
    /// @param discloser The member who discloses (the action's caller).
    /// @param ref The `disclose` action's ref.
    /// @return `keccak256(abi.encode(discloser, ref))`.
    function disclosureId(address discloser, bytes32 ref) external pure returns (bytes32);
}
