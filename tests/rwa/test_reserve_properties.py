"""R1 as a property: over random attest / mint / redeem / warp sequences, every mint succeeds iff a
model predicts it, and after every mint the supply is within the latest fresh attestation."""

import ape
from helpers import isolated
from hypothesis import given
from hypothesis import strategies as st

from rwa.helpers import MAX_AGE, SHARE, attest

steps = st.lists(
    st.one_of(
        st.tuples(st.just("attest"), st.integers(0, 200)),
        st.tuples(st.just("mint"), st.integers(1, 120)),
        st.tuples(st.just("redeem"), st.integers(1, 50)),
        st.tuples(st.just("warp"), st.sampled_from([1, MAX_AGE - 1, MAX_AGE, MAX_AGE + 1])),
    ),
    min_size=1,
    max_size=12,
)


@given(ops=steps)
def test_supply_never_exceeds_fresh_attested_reserve(chain, stock, keeper, minter, traders, ops):
    alice = traders[0]
    with isolated(chain):
        nonce, shares, att_ts, supply = 0, 0, None, 0
        for op, value in ops:
            if op == "attest":
                nonce += 1
                tx = attest(stock, chain, value * SHARE, nonce, sender=keeper)
                shares, att_ts = value * SHARE, tx.timestamp
            elif op == "warp":
                chain.pending_timestamp += value
            elif op == "mint":
                ts = chain.pending_timestamp = chain.pending_timestamp  # pinned: the age check is boundary-exact
                ok = att_ts is not None and ts - att_ts <= MAX_AGE and supply + value * SHARE <= shares
                try:
                    stock.mint(alice, value * SHARE, sender=minter)
                    assert ok, "mint succeeded outside the attested reserve"
                    supply += value * SHARE
                except ape.exceptions.ContractLogicError:
                    assert not ok, "mint refused within a fresh attested reserve"
                assert stock.totalSupply() == supply
                if ok:
                    assert stock.totalSupply() <= stock.reserve()[1]
            elif op == "redeem":
                amount = min(value * SHARE, supply)
                if amount:
                    stock.redeem(amount, b"\x01" * 32, sender=alice)
                    supply -= amount
