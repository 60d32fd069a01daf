// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @dev The action ids of the Constitution's built-in actions (`keccak256` of their names), shared
/// by the {Constitution} that runs them and the {ConstitutionRules} that check definitions of them.
/// Compile-time constants: importing them adds no code.
bytes32 constant ADD_MEMBER = keccak256("addMember");
bytes32 constant SUSPEND_MEMBER = keccak256("suspendMember");
bytes32 constant REINSTATE_MEMBER = keccak256("reinstateMember");
bytes32 constant AMEND_CONSTITUTION = keccak256("amendConstitution");
bytes32 constant UPDATE_PERMISSIONS = keccak256("updatePermissions");
bytes32 constant REFRESH_TRUST_KEYS = keccak256("refreshTrustKeys");
bytes32 constant VOTE_FOR = keccak256("voteFor");
