"""Off-chain matching engine: price-time priority books, journal and recovery, market data, liquidity ladder.

See ``offchain/matcher/README.md`` for the policies, the journal and the sharding story.
"""
