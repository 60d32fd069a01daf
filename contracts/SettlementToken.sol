// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title SettlementToken
/// @notice A mintable ERC-20 that settles the consortium's invoices on local and test networks
/// (on a production chain the agreement's terms name a real settlement token instead).
/// @dev The owner (the deployer, or whom it hands ownership to) is the only minter.
contract SettlementToken is ERC20, Ownable {
    uint8 private immutable _DECIMALS;

    /// @param name_ The token name, e.g. "Telco Settlement Dollar".
    /// @param symbol_ The symbol, e.g. "TSD".
    /// @param decimals_ The number of decimals (6 like most fiat stablecoins).
    /// @param owner_ The minter.
    constructor(string memory name_, string memory symbol_, uint8 decimals_, address owner_)
        ERC20(name_, symbol_)
        Ownable(owner_)
    {
        _DECIMALS = decimals_;
    }

    /// @notice Creates `amount` tokens for `to`.
    /// @dev Requirements: the caller is the owner (else OwnableUnauthorizedAccount).
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _DECIMALS;
    }
}
