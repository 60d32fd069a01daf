// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConstitution} from "./interfaces/IConstitution.sol";
import {
    ADD_MEMBER,
    SUSPEND_MEMBER,
    REINSTATE_MEMBER,
    AMEND_CONSTITUTION,
    UPDATE_PERMISSIONS,
    REFRESH_TRUST_KEYS,
    VOTE_FOR
} from "./libraries/BuiltinActions.sol";

/// @title ConstitutionRules
/// @notice The rules an action definition must meet (see {IConstitution.ActionPolicy}), checked
/// for the Constitution that created this contract. Stateless: every function is a view of its
/// arguments, the calling Constitution (`msg.sender`) and the code of the accounts named.
/// @dev Split out of the Constitution only for size (EIP-170): the Constitution's constructor
/// deploys it and keeps its address as an immutable, and calls it whenever a definition is made
/// (genesis, amendConstitution) or an amendConstitution proposal opens — never on the path of
/// an ordinary action. Its reverts are the Constitution's own custom errors, bubbled up as they
/// are, so a caller sees exactly what it saw when these checks were internal.
contract ConstitutionRules {
    uint256 private constant _MAX_NAME_LENGTH = 64;
    /// @dev Maximum length of a `Specific` voter list, of a veto list and of a callers list.
    uint256 private constant _MAX_VOTERS = 32;

    /// @notice Checks every rule of a definition made by the calling Constitution (`msg.sender`).
    /// @param policy The action definition.
    /// @return actionId `keccak256(bytes(policy.name))`.
    /// @dev Reverts with {IConstitution.ConstitutionInvalidActionName},
    /// {IConstitution.ConstitutionInvalidModule}, {IConstitution.ConstitutionTooManyVoters},
    /// {IConstitution.ConstitutionInvalidVoting} or {IConstitution.ConstitutionInvalidCaller}.
    function checkPolicy(IConstitution.ActionPolicy calldata policy) external view returns (bytes32 actionId) {
        uint256 nameLength = bytes(policy.name).length;
        if (nameLength == 0 || nameLength > _MAX_NAME_LENGTH) revert IConstitution.ConstitutionInvalidActionName();
        actionId = keccak256(bytes(policy.name));
        _checkModule(actionId, policy);
        _checkVoting(actionId, policy);
        address[] calldata voters = policy.voterList;
        address[] calldata vetoes = policy.vetoList;
        address[] calldata callers = policy.callers;
        for (uint256 i = 0; i < voters.length; ++i) {
            if (voters[i] == address(0) || _contains(voters, voters[i], i)) {
                revert IConstitution.ConstitutionInvalidVoting(actionId);
            }
        }
        bool specific = policy.voters == IConstitution.Voters.Specific;
        for (uint256 i = 0; i < vetoes.length; ++i) {
            address vetoer = vetoes[i];
            if (vetoer == address(0) || _contains(vetoes, vetoer, i) || (specific && !_contains(voters, vetoer, voters.length))) {
                revert IConstitution.ConstitutionInvalidVoting(actionId);
            }
        }
        if (callers.length != 0 && (policy.scope == IConstitution.Scope.Public || callers.length > _MAX_VOTERS)) {
            revert IConstitution.ConstitutionInvalidCaller(actionId, callers[0]);
        }
        for (uint256 i = 0; i < callers.length; ++i) {
            address caller = callers[i];
            if (caller == msg.sender || caller.code.length == 0 || _contains(callers, caller, i)) {
                revert IConstitution.ConstitutionInvalidCaller(actionId, caller);
            }
        }
    }

    /// @notice Whether `actionId` is one of the Constitution's built-in actions.
    /// @param actionId The action id.
    /// @return True for addMember, suspendMember, reinstateMember, amendConstitution,
    /// updatePermissions, refreshTrustKeys and voteFor.
    function isBuiltin(bytes32 actionId) public pure returns (bool) {
        return actionId == ADD_MEMBER || actionId == SUSPEND_MEMBER || actionId == REINSTATE_MEMBER
            || actionId == AMEND_CONSTITUTION || actionId == UPDATE_PERMISSIONS || actionId == REFRESH_TRUST_KEYS
            || actionId == VOTE_FOR;
    }

    /// @dev Whether `account` is among the first `end` entries of `list`.
    function _contains(address[] calldata list, address account, uint256 end) private pure returns (bool) {
        for (uint256 i = 0; i < end; ++i) {
            if (list[i] == account) return true;
        }
        return false;
    }

    /// @dev Built-ins run in the Constitution (no module) and are Public; other actions need a
    /// contract other than the Constitution.
    function _checkModule(bytes32 actionId, IConstitution.ActionPolicy calldata policy) private view {
        address module = policy.module;
        bool valid = isBuiltin(actionId)
            ? module == address(0) && policy.scope == IConstitution.Scope.Public
            : module != msg.sender && module.code.length != 0 && policy.selector != bytes4(0);
        if (!valid) revert IConstitution.ConstitutionInvalidModule(actionId, module);
    }

    /// @dev `Any`: no vote (margin <= 1, no lists). Otherwise: a Public action other than
    /// voteFor, a voting period, and a voter list exactly when `Specific`.
    function _checkVoting(bytes32 actionId, IConstitution.ActionPolicy calldata policy) private pure {
        uint256 voterCount = policy.voterList.length;
        uint256 vetoCount = policy.vetoList.length;
        if (voterCount > _MAX_VOTERS) revert IConstitution.ConstitutionTooManyVoters(voterCount, _MAX_VOTERS);
        if (vetoCount > _MAX_VOTERS) revert IConstitution.ConstitutionTooManyVoters(vetoCount, _MAX_VOTERS);
        IConstitution.Voters voters = policy.voters;
        bool valid = voters == IConstitution.Voters.Any
            ? policy.margin <= 1 && voterCount == 0 && vetoCount == 0
            : policy.scope == IConstitution.Scope.Public && actionId != VOTE_FOR && policy.votingPeriod != 0
                && (voters == IConstitution.Voters.Specific) == (voterCount != 0);
        if (!valid) revert IConstitution.ConstitutionInvalidVoting(actionId);
    }
}
