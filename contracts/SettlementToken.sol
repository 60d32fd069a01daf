// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IConstitution} from "./interfaces/IConstitution.sol";
import {ConstitutionModule} from "./modules/ConstitutionModule.sol";

/// @title SettlementToken
/// @notice An ERC-20 that settles the consortium's invoices on local and test networks (on a
/// production chain the agreement's terms name a real settlement token instead).
/// @dev Money supply is governed: the starting balances are minted once, at construction
/// (from consortium.yaml, in the open), and afterwards tokens are created only by the
/// `mintSettlement` action of the Constitution — put to a vote of the members in the example
/// consortium. Nobody owns the token: the deployer, the operator or any payee cannot mint.
///
/// Its one action, `mintSettlement` (Public, voted), is documented at its entry point below;
/// docs/agreement.md's actions table is generated from it.
contract SettlementToken is ERC20, ConstitutionModule {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The starting allocation lists `holders` and `amounts` of different lengths.
    error SettlementInvalidAllocation(uint256 holders, uint256 amounts);

    /// @notice A mint to the zero address or of nothing.
    error SettlementInvalidMint(address to, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `amount` tokens were created for `to` by the governed action of `caller` (`ref`).
    event SettlementMinted(address indexed to, bytes32 indexed ref, address indexed caller, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    uint8 private immutable _DECIMALS;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param constitution The Constitution whose `mintSettlement` action alone creates tokens.
    /// @param name_ The token name, e.g. "Telco Settlement Dollar".
    /// @param symbol_ The symbol, e.g. "TSD".
    /// @param decimals_ The number of decimals (6 like most fiat stablecoins).
    /// @param holders The starting balances' holders.
    /// @param amounts The starting balances (token units), one per holder.
    constructor(
        IConstitution constitution,
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        address[] memory holders,
        uint256[] memory amounts
    ) ERC20(name_, symbol_) ConstitutionModule(constitution) {
        if (holders.length != amounts.length) revert SettlementInvalidAllocation(holders.length, amounts.length);
        _DECIMALS = decimals_;
        for (uint256 i = 0; i < holders.length; ++i) {
            _mint(holders[i], amounts[i]);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Creates `amount` tokens for `to` (the `mintSettlement` action, voted).
    /// @dev Requirements: called by the Constitution; `to` is not 0 and `amount` is not 0
    /// ({SettlementInvalidMint}). Emits {SettlementMinted} and {Transfer}.
    /// @param caller The member whose action (or approved proposal) mints.
    /// @param ref The caller's correlation id.
    /// @param params `abi.encode(address to, uint256 amount)`.
    /// @custom:who No caller check: whoever the constitution lets (a vote in the example consortium); `to`
    /// and `amount` not zero.
    function mintSettlement(address caller, bytes32 ref, bytes calldata params) external onlyConstitution {
        (address to, uint256 amount) = abi.decode(params, (address, uint256));
        if (to == address(0) || amount == 0) revert SettlementInvalidMint(to, amount);
        _mint(to, amount);
        emit SettlementMinted(to, ref, caller, amount);
    }

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _DECIMALS;
    }
}
