// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Roles
/// @notice The protocol's role identifiers, defined once and shared by every contract.
/// @dev Roles are held in one {ProtocolAccess} instance that every module consults, so a grant or a
/// revocation takes effect protocol-wide in one transaction. `ADMIN` is OpenZeppelin's
/// `DEFAULT_ADMIN_ROLE`; in production it is held by a TimelockController (governance).
library Roles {
    /// @notice Governance: configuration, role administration, unpausing. Equal to DEFAULT_ADMIN_ROLE.
    bytes32 internal constant ADMIN = 0x00;
    /// @notice Off-chain operator: settles matched batches, posts contract prices.
    bytes32 internal constant OPERATOR = keccak256("perpx.role.OPERATOR");
    /// @notice Keeper bots: funding, liquidation, volatility updates.
    bytes32 internal constant KEEPER = keccak256("perpx.role.KEEPER");
    /// @notice Emergency guardian: may pause (never unpause, never move funds).
    bytes32 internal constant GUARDIAN = keccak256("perpx.role.GUARDIAN");
    /// @notice Compliance desk: maintains the allowlist and blocklist.
    bytes32 internal constant COMPLIANCE = keccak256("perpx.role.COMPLIANCE");
    /// @notice Protocol modules (engine, settlement, insurance) allowed to move internal Vault balances.
    bytes32 internal constant LEDGER = keccak256("perpx.role.LEDGER");
    /// @notice Issuance desk: mints tokenised stocks (only within the custodian's attested reserve).
    bytes32 internal constant MINTER = keccak256("perpx.role.MINTER");
    /// @notice Trade settlement module: applies matched fills to the perpetual engine.
    bytes32 internal constant SETTLER = keccak256("perpx.role.SETTLER");
    /// @notice Funding module: feeds funding rates into the engine's cumulative funding index.
    bytes32 internal constant FUNDING = keccak256("perpx.role.FUNDING");
    /// @notice Liquidation module: forced closes, keeper rewards, bad-debt cover and ADL in the engine.
    bytes32 internal constant LIQUIDATOR = keccak256("perpx.role.LIQUIDATOR");
}
