// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {AccessControlled} from "../access/AccessControlled.sol";
import {Roles} from "../access/Roles.sol";
import {IComplianceRegistry} from "../interfaces/IComplianceRegistry.sol";
import {StockSplit} from "./StockSplit.sol";

/// @title StockToken
/// @notice A tokenised stock (e.g. xAAPL) backed 1:1 by shares a custodian holds. Tokens are minted
/// only by `Roles.MINTER` and only while the custodian's latest attestation is fresh and covers the
/// new total supply; redemption burns tokens and emits what the custodian needs to release shares.
/// @dev Units: token amounts have 18 decimals; one token represents `multiplierX18 / 1e18` shares
/// (1.0 until a split). Attested shares are 18-decimal share units. An attestation covers
/// `sharesHeld * 1e18 / multiplier-at-its-timestamp` tokens (rounded down: the protocol's favour).
/// Policy (SECURITY 33, R1, R2):
/// - An attestation is the custodian's EIP-712 signature (domain: this token, this chain) over
///   (stock, sharesHeld, reportHash, timestamp, nonce). It is refused when signed by anyone but
///   the custodian (EOA or ERC-1271 wallet), when its nonce does not exceed the last one (replay),
///   when its timestamp is in the future, older than `maxAttestationAge`, older than the last
///   accepted one, or earlier than the last split's activation.
/// - An attestation below the supply is accepted (it is the truth) and stops minting; the
///   {reserve} view then shows a ratio below 1.
/// - Blocked accounts (compliance) can neither receive nor send; mint recipients must be allowed.
contract StockToken is ERC20, EIP712, StockSplit {
    /// @notice EIP-712 type hash of a reserve attestation.
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256("ReserveAttestation(address stock,uint256 sharesHeld,bytes32 reportHash,uint64 timestamp,uint64 nonce)");

    /// @notice The latest accepted attestation.
    struct Attestation {
        uint256 sharesHeld;
        bytes32 reportHash;
        uint64 timestamp;
        uint64 nonce;
        uint256 multiplierX18;
    }

    /// @notice The compliance registry consulted on mint and transfer.
    IComplianceRegistry public immutable compliance;
    /// @notice The custodian's signing address (EOA or ERC-1271 wallet).
    address public custodian;
    /// @notice Age beyond which an attestation no longer allows minting (and is refused when posted).
    uint64 public maxAttestationAge;
    /// @notice Redemptions so far; the next gets `redemptionCount + 1`.
    uint256 public redemptionCount;
    Attestation private _latest;

    /// @notice A zero address was given for the compliance registry or the custodian.
    error StockTokenZeroAddress();
    /// @notice The maximum attestation age is zero.
    error StockTokenZeroMaxAge();
    /// @notice The attestation is not signed by the custodian.
    error StockTokenUnauthorisedAttestation(address custodian);
    /// @notice The attestation's nonce does not exceed the last accepted nonce.
    error StockTokenAttestationReplayed(uint64 nonce, uint64 lastNonce);
    /// @notice The attestation's timestamp is after the current block.
    error StockTokenAttestationFromFuture(uint64 timestamp, uint256 nowTimestamp);
    /// @notice The attestation is older than the last accepted one or than the last split.
    error StockTokenAttestationOutOfOrder(uint64 timestamp, uint64 floor);
    /// @notice The attestation (posted, or latest at mint) is older than allowed.
    error StockTokenStaleAttestation(uint256 age, uint64 maxAge);
    /// @notice The mint would take the supply above what the latest attestation covers.
    error StockTokenExceedsReserve(uint256 newSupply, uint256 covered);
    /// @notice The account is not allowed (mint recipient) or is blocked (transfer party, redeemer).
    error StockTokenComplianceRefused(address account);
    /// @notice Zero amount.
    error StockTokenZeroAmount();

    /// @notice A reserve attestation was accepted.
    event ReserveAttested(uint64 indexed nonce, uint256 sharesHeld, bytes32 reportHash, uint64 timestamp, uint256 multiplierX18);
    /// @notice Tokens were minted against attestation `nonce`.
    event StockMinted(address indexed to, uint256 amount, uint64 indexed attestationNonce);
    /// @notice Tokens were burned for redemption: the custodian releases `shares` to `custodyAccount`.
    event RedemptionRequested(
        uint256 indexed redemptionId, address indexed holder, uint256 amount, uint256 shares, bytes32 custodyAccount
    );
    /// @notice The custodian's signing address changed.
    event CustodianSet(address custodian);
    /// @notice The maximum attestation age changed.
    event MaxAttestationAgeSet(uint64 maxAge);

    /// @param name_ Token name, e.g. "perpx Apple".
    /// @param symbol_ Token symbol, e.g. "xAAPL".
    /// @param acl_ The deployment's {ProtocolAccess}.
    /// @param compliance_ The compliance registry.
    /// @param custodian_ The custodian's signing address.
    /// @param maxAge Maximum attestation age in seconds.
    constructor(
        string memory name_,
        string memory symbol_,
        IAccessControl acl_,
        IComplianceRegistry compliance_,
        address custodian_,
        uint64 maxAge
    ) ERC20(name_, symbol_) EIP712("perpx StockToken", "1") AccessControlled(acl_) {
        if (address(compliance_) == address(0)) revert StockTokenZeroAddress();
        compliance = compliance_;
        _setCustodian(custodian_);
        _setMaxAge(maxAge);
    }

    /// @notice Accepts a custodian attestation of the shares held. Anyone may submit it.
    /// @param sharesHeld Shares held in custody (18-decimal share units).
    /// @param reportHash Hash of the custodian's full report (off-chain document).
    /// @param timestamp When the custodian observed the holding.
    /// @param attestationNonce Strictly increasing attestation counter.
    /// @param signature The custodian's EIP-712 signature.
    function postAttestation(
        uint256 sharesHeld,
        bytes32 reportHash,
        uint64 timestamp,
        uint64 attestationNonce,
        bytes calldata signature
    ) external {
        bytes32 digest = attestationDigest(sharesHeld, reportHash, timestamp, attestationNonce);
        if (!SignatureChecker.isValidSignatureNow(custodian, digest, signature)) {
            revert StockTokenUnauthorisedAttestation(custodian);
        }
        Attestation memory last = _latest;
        if (attestationNonce <= last.nonce) revert StockTokenAttestationReplayed(attestationNonce, last.nonce);
        if (timestamp > block.timestamp) revert StockTokenAttestationFromFuture(timestamp, block.timestamp);
        uint256 age = block.timestamp - timestamp;
        if (age > maxAttestationAge) revert StockTokenStaleAttestation(age, maxAttestationAge);
        _syncSplit();
        uint64 splitAt = lastSplitAt();
        uint64 floor = last.timestamp > splitAt ? last.timestamp : splitAt;
        if (timestamp < floor) revert StockTokenAttestationOutOfOrder(timestamp, floor);
        uint256 m = _multiplierAt(timestamp);
        _latest = Attestation(sharesHeld, reportHash, timestamp, attestationNonce, m);
        emit ReserveAttested(attestationNonce, sharesHeld, reportHash, timestamp, m);
    }

    /// @notice Mints `amount` tokens to `to` within the latest fresh attestation.
    /// @param to The recipient (must be allowed by compliance).
    /// @param amount Token amount (18 decimals).
    function mint(address to, uint256 amount) external onlyRole(Roles.MINTER) {
        if (amount == 0) revert StockTokenZeroAmount();
        if (!compliance.isAllowed(to)) revert StockTokenComplianceRefused(to);
        Attestation memory att = _latest;
        uint256 age = block.timestamp - att.timestamp;
        if (att.nonce == 0 || age > maxAttestationAge) revert StockTokenStaleAttestation(age, maxAttestationAge);
        uint256 covered = _covered(att);
        uint256 newSupply = totalSupply() + amount;
        if (newSupply > covered) revert StockTokenExceedsReserve(newSupply, covered);
        _mint(to, amount);
        emit StockMinted(to, amount, att.nonce);
    }

    /// @notice Burns `amount` of the caller's tokens so the custodian releases the shares.
    /// @param amount Token amount to burn.
    /// @param custodyAccount The caller's brokerage/custody account reference for the share transfer.
    /// @return redemptionId The id the custodian reports against.
    /// @return shares Shares to release (18-decimal units, rounded down).
    function redeem(uint256 amount, bytes32 custodyAccount) external returns (uint256 redemptionId, uint256 shares) {
        if (amount == 0) revert StockTokenZeroAmount();
        _burn(msg.sender, amount);
        shares = Math.mulDiv(amount, multiplierX18(), 1e18);
        redemptionId = ++redemptionCount;
        emit RedemptionRequested(redemptionId, msg.sender, amount, shares, custodyAccount);
    }

    /// @notice Changes the custodian's signing address (admin).
    /// @param custodian_ The new address.
    function setCustodian(address custodian_) external onlyRole(Roles.ADMIN) {
        _setCustodian(custodian_);
    }

    /// @notice Changes the maximum attestation age (admin).
    /// @param maxAge Seconds, non-zero.
    function setMaxAttestationAge(uint64 maxAge) external onlyRole(Roles.ADMIN) {
        _setMaxAge(maxAge);
    }

    /// @notice Reserve status for anyone.
    /// @return attestedShares Shares in the latest attestation.
    /// @return coveredSupply Tokens those shares back.
    /// @return supply Current total supply.
    /// @return ratioX18 coveredSupply / supply (18 decimals; type(uint256).max when supply is 0).
    /// @return age Seconds since the latest attestation's timestamp.
    function reserve()
        external
        view
        returns (uint256 attestedShares, uint256 coveredSupply, uint256 supply, uint256 ratioX18, uint256 age)
    {
        Attestation memory att = _latest;
        attestedShares = att.sharesHeld;
        coveredSupply = _covered(att);
        supply = totalSupply();
        ratioX18 = supply == 0 ? type(uint256).max : Math.mulDiv(coveredSupply, 1e18, supply);
        age = block.timestamp - att.timestamp;
    }

    /// @notice The latest accepted attestation.
    /// @return The attestation.
    function latestAttestation() external view returns (Attestation memory) {
        return _latest;
    }

    /// @notice The EIP-712 digest the custodian signs.
    /// @param sharesHeld Shares held.
    /// @param reportHash Report hash.
    /// @param timestamp Observation time.
    /// @param attestationNonce Nonce.
    /// @return The digest.
    function attestationDigest(uint256 sharesHeld, bytes32 reportHash, uint64 timestamp, uint64 attestationNonce)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(ATTESTATION_TYPEHASH, address(this), sharesHeld, reportHash, timestamp, attestationNonce))
        );
    }

    /// @notice Shares represented by `account`'s balance (rounded down).
    /// @param account The holder.
    /// @return Shares, 18-decimal units.
    function sharesOf(address account) external view returns (uint256) {
        return Math.mulDiv(balanceOf(account), multiplierX18(), 1e18);
    }

    function _covered(Attestation memory att) private pure returns (uint256) {
        return att.multiplierX18 == 0 ? 0 : Math.mulDiv(att.sharesHeld, 1e18, att.multiplierX18);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && compliance.isBlocked(from)) revert StockTokenComplianceRefused(from);
        if (to != address(0) && compliance.isBlocked(to)) revert StockTokenComplianceRefused(to);
        super._update(from, to, value);
    }

    function _setCustodian(address custodian_) private {
        if (custodian_ == address(0)) revert StockTokenZeroAddress();
        custodian = custodian_;
        emit CustodianSet(custodian_);
    }

    function _setMaxAge(uint64 maxAge) private {
        if (maxAge == 0) revert StockTokenZeroMaxAge();
        maxAttestationAge = maxAge;
        emit MaxAttestationAgeSet(maxAge);
    }
}
