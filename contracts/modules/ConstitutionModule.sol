// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConstitution} from "../interfaces/IConstitution.sol";

/// @title ConstitutionModule
/// @notice Base of the business modules (AssetRegistry, OrderBook, ...) that implement
/// actions for the Constitution. A module's action entry points have the signature
/// `function f(address caller, bytes32 ref, bytes calldata params) external onlyConstitution`:
/// `caller` is the member who sent {IConstitution-executeAction} (or the proposer of the
/// proposal being executed), `ref` its correlation id, `params` the client's ABI-encoded
/// arguments, decoded by the module.
/// @dev Business failures revert with the module's custom errors; the Constitution lets them
/// bubble up unchanged.
abstract contract ConstitutionModule {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `caller` is not the Constitution: module entry points run only as actions.
    error ModuleUnauthorizedCaller(address caller);

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The Constitution this module serves.
    IConstitution public immutable CONSTITUTION;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param constitution The Constitution allowed to call this module.
    constructor(IConstitution constitution) {
        CONSTITUTION = constitution;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Restricts an entry point to calls from the Constitution.
    modifier onlyConstitution() {
        _checkConstitution();
        _;
    }

    /// @dev Reverts with {ModuleUnauthorizedCaller} unless the caller is the Constitution.
    function _checkConstitution() internal view {
        if (msg.sender != address(CONSTITUTION)) revert ModuleUnauthorizedCaller(msg.sender);
    }

    /// @dev Runs an Internal action while this module executes an action (the original caller
    /// is passed on by the Constitution). Returns the internal module's return data.
    function _executeInternal(bytes32 action, bytes32 ref, bytes memory params) internal returns (bytes memory) {
        return CONSTITUTION.executeInternal(action, ref, params);
    }
}
