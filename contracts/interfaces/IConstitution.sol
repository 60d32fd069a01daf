// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IConstitution
/// @notice The consortium's governance contract: who the members are and how they reach
/// the chain. Holds the types, events and errors shared by the Constitution and its clients.
interface IConstitution {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A member's standing. `None` means "not a member".
    enum MemberStatus {
        None,
        Active,
        Suspended
    }

    /// @notice A consortium member as stored on chain.
    /// @dev Packed: account, status and joinedAt share one slot; trustKey one; name the rest.
    struct Member {
        address account;
        MemberStatus status;
        uint64 joinedAt;
        bytes32 trustKey;
        string name;
    }

    /// @notice A founding member passed to the constructor.
    struct MemberInit {
        address account;
        bytes32 trustKey;
        string name;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `account` is already a member.
    error ConstitutionMemberExists(address account);
    /// @notice `account` is not a member of the consortium.
    error ConstitutionNotMember(address account);
    /// @notice The zero address cannot be a member.
    error ConstitutionInvalidMember(address account);
    /// @notice A trust key must be a non-zero 32-byte public key.
    error ConstitutionInvalidTrustKey();
    /// @notice A member name must be 1 to 64 bytes long.
    error ConstitutionInvalidName();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `account` joined the consortium as `name` with encryption key `trustKey`.
    event MemberAdded(address indexed account, bytes32 indexed ref, string name, bytes32 trustKey);

    /// @notice `account` replaced its trust key with `trustKey`.
    event TrustKeyRefreshed(address indexed account, bytes32 indexed ref, bytes32 trustKey);

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @notice Number of members ever admitted (active and suspended).
    function memberCount() external view returns (uint256);

    /// @notice Members in admission order, `limit` at most from `offset` (paginate, never loop).
    /// @param offset Index of the first member to return.
    /// @param limit Maximum number of members to return.
    /// @return page The members found; shorter than `limit` at the end of the list.
    function members(uint256 offset, uint256 limit) external view returns (Member[] memory page);

    /// @notice The member record of `account` (status `None` if it is not a member).
    function getMember(address account) external view returns (Member memory);

    /// @notice Whether `account` is a member in good standing.
    function isActiveMember(address account) external view returns (bool);
}
