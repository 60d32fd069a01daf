// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConstitution} from "./interfaces/IConstitution.sol";
import {IDetailsVault} from "./interfaces/IDetailsVault.sol";
import {ConstitutionModule} from "./modules/ConstitutionModule.sol";

/// @title DetailsVault
/// @notice Visibility constraints (seed 001): encrypted details of actions, each readable only
/// by the members it was disclosed to. A Constitution module: see {IDetailsVault} and
/// docs/visibility.md.
/// @dev Design notes:
/// - A disclosure's id is `keccak256(abi.encode(discloser, ref))` ({disclosureId}): the same
///   ref sent by another member (a copy of a pending transaction) makes another disclosure.
/// - Ciphertext and wrapped keys live in events only; storage holds one disclosure record
///   (discloser + block, subject, detailsHash: three slots) for access control and lookups.
/// - Loops run over calldata arrays only (at most {MAX_RECIPIENTS} entries); the duplicate
///   check is quadratic in that bound (at most 496 comparisons).
/// - Recipients are checked against the Constitution (one view call each), which also gives
///   their current trust key for the {KeyWrapped} hint.
contract DetailsVault is IDetailsVault, ConstitutionModule {
    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev A disclosure: discloser and block in one slot, then subject and commitment.
    struct Disclosure {
        address discloser;
        uint64 blockNumber;
        bytes32 subject;
        bytes32 detailsHash;
    }

    /// @inheritdoc IDetailsVault
    uint256 public constant MAX_RECIPIENTS = 32;
    /// @inheritdoc IDetailsVault
    uint256 public constant MAX_CIPHERTEXT = 16_384;
    /// @inheritdoc IDetailsVault
    uint256 public constant MAX_WRAPPED_KEY = 256;

    mapping(bytes32 id => Disclosure) private _disclosures;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param constitution The Constitution whose actions this module implements.
    constructor(IConstitution constitution) ConstitutionModule(constitution) {}

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDetailsVault
    function disclose(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (
            bytes32 subject,
            bytes32 detailsHash,
            bytes memory ciphertext,
            address[] memory recipients,
            bytes[] memory wrappedKeys
        ) = abi.decode(params, (bytes32, bytes32, bytes, address[], bytes[]));
        if (ref == bytes32(0) || subject == bytes32(0) || detailsHash == bytes32(0)) revert VaultInvalidId();
        bytes32 id = _disclosureId(caller, ref);
        Disclosure storage d = _disclosures[id];
        if (d.discloser != address(0)) revert VaultDisclosureExists(id);
        if (ciphertext.length == 0 || ciphertext.length > MAX_CIPHERTEXT) {
            revert VaultInvalidCiphertext(ciphertext.length, MAX_CIPHERTEXT);
        }
        uint256 count = recipients.length;
        if (count == 0 || count > MAX_RECIPIENTS || wrappedKeys.length != count) {
            revert VaultInvalidRecipients(count, wrappedKeys.length, MAX_RECIPIENTS);
        }
        for (uint256 i = 1; i < count; ++i) {
            for (uint256 j = 0; j < i; ++j) {
                if (recipients[i] == recipients[j]) revert VaultDuplicateRecipient(recipients[i]);
            }
        }
        (d.discloser, d.blockNumber, d.subject, d.detailsHash) = (caller, uint64(block.number), subject, detailsHash);
        emit Disclosed(id, subject, caller, ref, detailsHash, count, ciphertext);
        for (uint256 i = 0; i < count; ++i) {
            _wrap(recipients[i], id, ref, wrappedKeys[i]);
        }
    }

    /// @inheritdoc IDetailsVault
    function grantAccess(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 id, address recipient, bytes memory wrappedKey) = abi.decode(params, (bytes32, address, bytes));
        Disclosure storage d = _disclosures[id];
        if (d.discloser == address(0)) revert VaultUnknownDisclosure(id);
        if (d.discloser != caller) revert VaultNotDiscloser(id, caller);
        _wrap(recipient, id, ref, wrappedKey);
    }

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDetailsVault
    function disclosure(bytes32 id) external view returns (DisclosureView memory) {
        Disclosure storage d = _disclosures[id];
        return DisclosureView(d.discloser, d.blockNumber, d.subject, d.detailsHash);
    }

    /// @inheritdoc IDetailsVault
    function disclosureId(address discloser, bytes32 ref) external pure returns (bytes32) {
        return _disclosureId(discloser, ref);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev `keccak256(abi.encode(discloser, ref))`: a disclosure's id, unique per discloser.
    function _disclosureId(address discloser, bytes32 ref) private pure returns (bytes32) {
        return keccak256(abi.encode(discloser, ref));
    }

    /// @dev Checks `recipient` (an active member) and its wrapped key, then emits {KeyWrapped}
    /// with the recipient's current trust key.
    function _wrap(address recipient, bytes32 id, bytes32 ref, bytes memory wrappedKey) private {
        IConstitution.Member memory m = CONSTITUTION.getMember(recipient);
        if (m.status != IConstitution.MemberStatus.Active) revert VaultRecipientNotMember(recipient);
        if (wrappedKey.length == 0 || wrappedKey.length > MAX_WRAPPED_KEY) {
            revert VaultInvalidWrappedKey(recipient, wrappedKey.length);
        }
        emit KeyWrapped(recipient, id, ref, m.trustKey, wrappedKey);
    }
}
