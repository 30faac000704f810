// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ISettlement
/// @notice Signed EIP-712 orders matched off chain and settled on chain in Merkle-rooted batches.
/// @dev The EIP-712 domain is `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`
/// with name "perpx Settlement" and version "1"; the order struct is exactly {Order} below
/// (offchain/orders/order.py builds the same digest).
interface ISettlement {
    /// @notice One signed order. Units: `size` base units X18 (USD contracts for inverse markets),
    /// `limitPrice` X18, `maxFeeRate` X18 (1e18 = 100% of notional), `expiry` unix seconds.
    /// `leg`: 0 one-way, 1 hedge long leg, 2 hedge short leg. `flags`: bit 0 reduce-only, bit 1
    /// post-only, bit 2 IOC, bit 3 FOK, bit 4 via API. `leverage` 1..50 (informational).
    struct Order {
        address trader;
        uint32 marketId;
        bool isBuy;
        uint8 leg;
        uint16 flags;
        uint16 leverage;
        uint128 size;
        uint128 limitPrice;
        uint64 maxFeeRate;
        uint64 nonce;
        uint64 expiry;
    }

    /// @notice A settled batch: its Merkle root and its number of fills.
    struct Batch {
        bytes32 root;
        uint64 size;
    }

    /// @notice Why a fill was rejected (the index of {SettlementFillRejected}).
    enum FillError {
        None,
        EmptyFill, // 1: zero size or zero price
        ZeroTrader, // 2: an order's trader is address(0)
        InvalidOrderFields, // 3: leg > 2, unknown flag bits, leverage outside 1..50
        SelfTrade, // 4: maker and taker are the same account
        MarketMismatch, // 5: the orders are for different markets
        SameSide, // 6: both orders buy or both sell
        MarketNotTradable, // 7: market not listed or settled
        PriceNotMakerLimit, // 8: execution price differs from the maker's limit price
        PriceOutsideTakerLimit, // 9: execution price worse than the taker's limit
        TakerPostOnly, // 10: a post-only order cannot take liquidity
        MakerExpired, // 11
        TakerExpired, // 12
        MakerBadSignature, // 13: not signed by the trader, a live delegate, or the ERC-1271 wallet
        TakerBadSignature, // 14
        MakerCancelled, // 15: cancelled by hash or below the trader's nonce floor
        TakerCancelled, // 16
        MakerOverfill, // 17: cumulative fills would exceed the order size (or the nonce is consumed)
        TakerOverfill, // 18
        TakerFeeAboveMax, // 19: reserved: the engine checks the fee cap (PerpEngineTakerFeeAboveMax(fillIndex, ...))
        MakerNotAllowed, // 20: compliance registry refuses the maker
        TakerNotAllowed // 21: compliance registry refuses the taker
    }

    /// @notice Fill `fillIndex` of the batch failed check `reason`; the whole batch reverts.
    error SettlementFillRejected(uint256 fillIndex, FillError reason);
    /// @notice `batchId` is not the next consecutive batch id `expected`.
    error SettlementBatchIdNotNext(uint256 batchId, uint256 expected);
    /// @notice A batch with no fills.
    error SettlementEmptyBatch();
    /// @notice The packed batch is truncated or malformed at fill `fillIndex` (= the fill count: trailing bytes).
    error SettlementMalformedFill(uint256 fillIndex);
    /// @notice The caller's expected root is zero.
    error SettlementZeroRoot();
    /// @notice The root computed on chain differs from the caller's expected (committed) root.
    error SettlementRootMismatch(bytes32 expected, bytes32 computed);
    /// @notice A batch with this root was already settled.
    error SettlementRootAlreadySettled(bytes32 root, uint256 batchId);
    /// @notice A constructor address is zero.
    error SettlementZeroAddress();
    /// @notice The engine has no code (Settlement calls it with a low-level call, which would not notice).
    error SettlementEngineNotContract(address engine);
    /// @notice The delegate is zero or the trader itself.
    error SettlementInvalidDelegate(address delegate);
    /// @notice A delegate authorisation expiry is not in the future.
    error SettlementExpiryNotInFuture(uint256 expiry);
    /// @notice The caller is neither the order's trader nor a live delegate of it.
    error SettlementNotTraderOrDelegate(address caller, address trader);
    /// @notice A new nonce floor must be above the current one.
    error SettlementNonceFloorNotIncreasing(uint256 current, uint256 requested);
    /// @notice A nonce floor above `max` (nonces are uint64; the floor is stored as one).
    error SettlementNonceFloorTooLarge(uint256 requested, uint256 max);
    /// @notice The batch id is not settled (verifyFill on an unknown batch).
    error SettlementUnknownBatch(uint256 batchId);

    /// @notice `trader` authorised `delegate` to sign its orders until `expiry`.
    event DelegateAuthorized(address indexed trader, address indexed delegate, uint256 expiry);
    /// @notice `trader` revoked `delegate`.
    event DelegateRevoked(address indexed trader, address indexed delegate);
    /// @notice The order `orderHash` of `trader` was cancelled.
    event OrderCancelled(bytes32 indexed orderHash, address indexed trader, uint256 orderNonce);
    /// @notice Every order of `trader` with a nonce below `minNonce` is cancelled.
    event NonceFloorRaised(address indexed trader, uint256 minNonce);
    /// @notice Batch `batchId` settled with Merkle root `root` over `size` fills; `chainRoot` =
    /// keccak256(previous chainRoot || root) commits to the whole history. `fills` holds every fill's
    /// record in leaf order, 96 bytes each: `abi.encodePacked(bytes32 makerOrderHash, bytes32
    /// takerOrderHash, uint128 sizeX18, uint128 priceX18)`; leaf data i = `abi.encodePacked(uint64
    /// batchId, record i)`, so the root (and the chain) can be rebuilt from this event alone.
    event BatchSettled(uint256 indexed batchId, bytes32 root, bytes32 chainRoot, uint256 size, bytes fills);

    /// @notice Settles batch `batchId` (the next consecutive id) atomically. Operator role only.
    /// @param batchId Must equal `lastBatchId() + 1`.
    /// @param expectedRoot The root the submitter computed; must equal the root computed on chain.
    /// @param fills The fills, in leaf order, packed as {PackedFills} describes: per fill the maker order
    /// and signature, the taker order and signature, the size and the price (= the maker's limit price).
    function settleBatch(uint256 batchId, bytes32 expectedRoot, bytes calldata fills) external;

    /// @notice Whether `leaf` (leaf data, see {BatchSettled}) is at `index` of batch `batchId`.
    /// @param batchId A settled batch.
    /// @param leaf The leaf data (hashed on chain with the 0x00 prefix, so a node cannot pose as a leaf).
    /// @param index 0-based leaf index.
    /// @param proof RFC 9162 audit path, bottom-up.
    function verifyFill(uint256 batchId, bytes calldata leaf, uint256 index, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice Authorises `delegate` (an API key) to sign the caller's orders until `expiry`.
    function authorizeDelegate(address delegate, uint256 expiry) external;

    /// @notice Revokes `delegate`'s authority over the caller's orders.
    function revokeDelegate(address delegate) external;

    /// @notice Cancels `order` (by its EIP-712 hash). The trader or a live delegate may call it.
    function cancelOrder(Order calldata order) external;

    /// @notice Cancels every order of the caller with a nonce below `minNonce`.
    function cancelBelowNonce(uint256 minNonce) external;

    /// @notice The EIP-712 hash (digest) of `order` under this contract's domain.
    function hashOrder(Order calldata order) external view returns (bytes32);
}
