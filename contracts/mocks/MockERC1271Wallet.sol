// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title MockERC1271Wallet
/// @notice A contract wallet for tests: approves a digest signed by its owner key, or any digest
/// pre-approved on chain; the owner can switch approvals off.
contract MockERC1271Wallet is IERC1271 {
    /// @notice The key whose ECDSA signatures the wallet accepts.
    address public immutable owner;
    /// @notice When false, every signature is refused.
    bool public enabled = true;
    /// @notice Digests approved without a signature.
    mapping(bytes32 digest => bool) public approved;

    /// @param owner_ The signing key.
    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Turns signature approval on or off.
    /// @param on The new state.
    function setEnabled(bool on) external {
        enabled = on;
    }

    /// @notice Approves `digest` for any signature payload.
    /// @param digest The digest.
    function approve(bytes32 digest) external {
        approved[digest] = true;
    }

    /// @notice Forwards a call (e.g. Settlement.cancelOrder) from the wallet.
    /// @param target The callee.
    /// @param data The calldata.
    function execute(address target, bytes calldata data) external {
        Address.functionCall(target, data);
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 digest, bytes calldata signature) external view returns (bytes4) {
        if (!enabled) return 0xffffffff;
        if (approved[digest]) return IERC1271.isValidSignature.selector;
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err == ECDSA.RecoverError.NoError && signer == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}
