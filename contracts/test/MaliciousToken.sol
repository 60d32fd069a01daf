// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MaliciousToken
/// @notice Test double: an ERC-20 that, once armed, calls `target` with `payload` in the middle
/// of its next transfer (so from inside the escrow's fund / release / refund / reclaim) and
/// bubbles up the revert of that call. Not deployed outside tests.
contract MaliciousToken is ERC20 {
    address public target;
    bytes public payload;
    bool public armed;

    constructor() ERC20("Malicious", "MAL") {}

    /// @notice Anyone mints (a test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the re-entry: the next transfer calls `target_` with `payload_`.
    function arm(address target_, bytes calldata payload_) external {
        (target, payload, armed) = (target_, payload_, true);
    }

    /// @dev Re-enters during a transfer (not a mint), once per arming.
    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed && from != address(0)) {
            armed = false;
            (bool ok, bytes memory data) = target.call(payload);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(data, 0x20), mload(data))
                }
            }
        }
    }
}
