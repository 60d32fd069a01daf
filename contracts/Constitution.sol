// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConstitution} from "./interfaces/IConstitution.sol";

/// @title Constitution
/// @notice The consortium's single entry point and policy engine. This first version holds
/// the member registry: members with a name, a trust key (public encryption key) and a status.
/// @dev Members are kept in a mapping plus an append-only index for paginated reads; no
/// transaction ever loops over the member set.
contract Constitution is IConstitution {
    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    uint256 private constant _MAX_NAME_LENGTH = 64;

    mapping(address account => Member) private _members;
    address[] private _memberIndex;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @notice Founds the consortium with its first members.
    /// @param founders The founding members: account, trust key, name.
    /// @dev Emits a {MemberAdded} event per founder, with a zero ref.
    constructor(MemberInit[] memory founders) {
        for (uint256 i = 0; i < founders.length; ++i) {
            _addMember(founders[i], bytes32(0));
        }
    }

    /*//////////////////////////////////////////////////////////////
                             PUBLIC UPDATE
    //////////////////////////////////////////////////////////////*/

    /// @notice Replaces the caller's own trust key (the seed's refreshTrustKeys).
    /// @param trustKey The new public encryption key (X25519, 32 bytes).
    /// @param ref The caller's correlation id, echoed in the event.
    /// @dev Requirements: the caller is an active member; `trustKey` is not zero.
    /// Emits a {TrustKeyRefreshed} event.
    function refreshTrustKey(bytes32 trustKey, bytes32 ref) external {
        Member storage m = _members[msg.sender];
        if (m.status != MemberStatus.Active) revert ConstitutionNotMember(msg.sender);
        if (trustKey == bytes32(0)) revert ConstitutionInvalidTrustKey();
        m.trustKey = trustKey;
        emit TrustKeyRefreshed(msg.sender, ref, trustKey);
    }

    /*//////////////////////////////////////////////////////////////
                              PUBLIC READ
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IConstitution
    function memberCount() external view returns (uint256) {
        return _memberIndex.length;
    }

    /// @inheritdoc IConstitution
    function members(uint256 offset, uint256 limit) external view returns (Member[] memory page) {
        uint256 total = _memberIndex.length;
        if (offset >= total) return new Member[](0);
        uint256 end = offset + limit > total ? total : offset + limit;
        page = new Member[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            page[i - offset] = _members[_memberIndex[i]];
        }
    }

    /// @inheritdoc IConstitution
    function getMember(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc IConstitution
    function isActiveMember(address account) public view returns (bool) {
        return _members[account].status == MemberStatus.Active;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Admits a member. Emits a {MemberAdded} event.
    function _addMember(MemberInit memory init, bytes32 ref) internal {
        if (init.account == address(0)) revert ConstitutionInvalidMember(init.account);
        if (_members[init.account].status != MemberStatus.None) revert ConstitutionMemberExists(init.account);
        if (init.trustKey == bytes32(0)) revert ConstitutionInvalidTrustKey();
        uint256 nameLength = bytes(init.name).length;
        if (nameLength == 0 || nameLength > _MAX_NAME_LENGTH) revert ConstitutionInvalidName();
        _members[init.account] = Member({
            account: init.account,
            status: MemberStatus.Active,
            joinedAt: uint64(block.timestamp),
            trustKey: init.trustKey,
            name: init.name
        });
        _memberIndex.push(init.account);
        emit MemberAdded(init.account, ref, init.name, init.trustKey);
    }
}
