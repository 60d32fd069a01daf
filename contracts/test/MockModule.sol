// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConstitution} from "../interfaces/IConstitution.sol";
import {ConstitutionModule} from "../modules/ConstitutionModule.sol";

/// @title MockModule
/// @notice Test double of a business module: records what the Constitution passes it, fails
/// on demand, and exercises internal actions and reentrancy. Not deployed outside tests.
contract MockModule is ConstitutionModule {
    /// @notice The module's business failure, with the code it was asked to fail with.
    error MockModuleFailed(uint256 code);

    /// @notice `caller` ran `record` with `value` (`ref` the caller's ref).
    event Recorded(address indexed caller, bytes32 indexed ref, uint256 value);

    /// @notice An internal action ran for `caller` with `value`.
    event InternalRecorded(address indexed caller, bytes32 indexed ref, uint256 value);

    /// @notice Number of successful `record` calls.
    uint256 public calls;
    /// @notice Sum of the values recorded.
    uint256 public total;
    /// @notice The caller passed on the last `record` or `internalRecord`.
    address public lastCaller;
    /// @notice While true, `record` fails (a business failure that appears after a proposal
    /// opened). Packed with `lastCaller`, which `record` writes anyway: reading it costs nothing.
    bool public failing;
    /// @notice The ref passed on the last `record` or `internalRecord`.
    bytes32 public lastRef;
    /// @notice The data returned by the last internal action called through `callInternal`.
    bytes public lastInternalResult;

    constructor(IConstitution constitution) ConstitutionModule(constitution) {}

    /// @notice Makes `record` fail (`on`) or succeed again: a test switch, open to anyone.
    function setFailing(bool on) external {
        failing = on;
    }

    /// @notice Records `abi.decode(params, (uint256))`.
    function record(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        uint256 value = abi.decode(params, (uint256));
        if (failing) revert MockModuleFailed(value);
        ++calls;
        total += value;
        (lastCaller, lastRef) = (caller, ref);
        emit Recorded(caller, ref, value);
    }

    /// @notice Always fails with `MockModuleFailed(abi.decode(params, (uint256)))`.
    function fail(address, bytes32, bytes calldata params) external view onlyConstitution {
        revert MockModuleFailed(abi.decode(params, (uint256)));
    }

    /// @notice Calls the internal action `abi.decode(params, (bytes32, bytes))`.
    function callInternal(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 action, bytes memory inner) = abi.decode(params, (bytes32, bytes));
        lastInternalResult = _executeInternal(action, ref, inner);
    }

    /// @notice An internal action: records the value and returns it doubled.
    function internalRecord(address caller, bytes32 ref, bytes calldata params)
        external
        onlyConstitution
        returns (uint256)
    {
        uint256 value = abi.decode(params, (uint256));
        (lastCaller, lastRef) = (caller, ref);
        emit InternalRecorded(caller, ref, value);
        return value * 2;
    }

    /// @notice Tries to re-enter the Constitution's public entry point executeAction.
    function reenter(address, bytes32 ref, bytes calldata params) external onlyConstitution {
        (bytes32 action, bytes memory inner) = abi.decode(params, (bytes32, bytes));
        CONSTITUTION.executeAction(action, inner, ref);
    }
}
