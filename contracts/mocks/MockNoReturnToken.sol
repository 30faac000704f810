// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Mimics USDT: lower-case constant getters and string reverts are part of what is being modelled.
// solhint-disable const-name-snakecase, gas-custom-errors

/// @title MockNoReturnToken
/// @notice USDT-like token: `transfer`, `transferFrom` and `approve` return nothing and revert on failure.
contract MockNoReturnToken {
    /// @notice Token name.
    string public constant name = "Tether-like";
    /// @notice Token symbol.
    string public constant symbol = "USDT";
    /// @notice Six decimals.
    uint8 public constant decimals = 6;
    /// @notice Total supply.
    uint256 public totalSupply;
    /// @notice Balances.
    mapping(address => uint256) public balanceOf;
    /// @notice Allowances.
    mapping(address => mapping(address => uint256)) public allowance;

    /// @notice ERC-20 Transfer.
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// @notice ERC-20 Approval.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @notice Transfers without a return value.
    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    /// @notice Transfers from `from` without a return value.
    function transferFrom(address from, address to, uint256 amount) external {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= amount, "allowance");
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
    }

    /// @notice Approves without a return value.
    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
    }

    function _move(address from, address to, uint256 amount) private {
        require(balanceOf[from] >= amount, "balance");
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }
}
