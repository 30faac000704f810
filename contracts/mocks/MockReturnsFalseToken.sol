// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockReturnsFalseToken
/// @notice Token whose `transfer` and `transferFrom` return false (moving nothing) once failing is on.
contract MockReturnsFalseToken is ERC20 {
    /// @notice Whether transfers fail by returning false.
    bool public failing = true;

    constructor() ERC20("False Token", "FALSE") {}

    /// @notice Six decimals.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Switches failure on or off.
    function setFailing(bool failing_) external {
        failing = failing_;
    }

    /// @notice Returns false without moving anything while failing.
    function transfer(address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transfer(to, value);
    }

    /// @notice Returns false without moving anything while failing.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transferFrom(from, to, value);
    }
}
