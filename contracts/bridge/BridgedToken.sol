// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IBridgedToken} from "./IBridgedToken.sol";

/// @title BridgedToken
/// @notice ERC-20 representation of an asset native to another chain. Only its bridge mints (on a
/// validated inbound transfer) and burns (on an outbound transfer requested by the holder).
contract BridgedToken is ERC20, IBridgedToken {
    /// @notice The bridge allowed to mint and burn; fixed at deployment.
    address public immutable bridge;
    uint8 private immutable _decimals;

    /// @notice The caller is not the bridge.
    error BridgedTokenOnlyBridge(address caller);
    /// @notice The bridge address is zero.
    error BridgedTokenZeroBridge();

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param decimals_ Decimals, equal to the native token's (amounts cross unchanged).
    /// @param bridge_ The bridge that mints and burns.
    constructor(string memory name_, string memory symbol_, uint8 decimals_, address bridge_) ERC20(name_, symbol_) {
        if (bridge_ == address(0)) revert BridgedTokenZeroBridge();
        bridge = bridge_;
        _decimals = decimals_;
    }

    modifier onlyBridge() {
        if (msg.sender != bridge) revert BridgedTokenOnlyBridge(msg.sender);
        _;
    }

    /// @notice Token decimals.
    /// @return The decimals.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc IBridgedToken
    function mint(address to, uint256 amount) external onlyBridge {
        _mint(to, amount);
    }

    /// @inheritdoc IBridgedToken
    function burn(address from, uint256 amount) external onlyBridge {
        _burn(from, amount);
    }
}
