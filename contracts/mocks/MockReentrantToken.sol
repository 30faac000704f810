// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockReentrantToken
/// @notice Token that, once armed, calls `target` with `data` in the middle of its next transfer
/// (before balances move), bubbling up any revert: models ERC-777-style hooks and malicious tokens.
contract MockReentrantToken is ERC20 {
    /// @notice Contract called back during the next transfer.
    address public target;
    /// @notice Calldata of the callback.
    bytes public data;

    constructor() ERC20("Reentrant Token", "REENT") {}

    /// @notice Six decimals.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the callback for the next transfer.
    function arm(address target_, bytes calldata data_) external {
        target = target_;
        data = data_;
    }

    function _update(address from, address to, uint256 value) internal override {
        address t = target;
        if (t != address(0) && from != address(0) && to != address(0)) {
            target = address(0);
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory ret) = t.call(data);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 32), mload(ret))
                }
            }
        }
        super._update(from, to, value);
    }
}
