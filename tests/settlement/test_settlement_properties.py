"""Property: random valid order flows, cut into random batches, leave filled amounts and positions equal to a
Python model; an overfilling fill appended to a batch reverts it (naming the fill) and changes nothing."""

from __future__ import annotations

import itertools

import ape
from helpers import isolated
from hypothesis import given
from hypothesis import strategies as st
from settle_helpers import LOT, PRICE, TICK, order, settle

from offchain.settlement.fills import order_tuple

UNIT = 100 * LOT  # 0.1 ETH


@st.composite
def flows(draw):
    """(maker orders, fills, batch cut points, overfill flag). Traders are indices 0..2."""
    n_makers = draw(st.integers(1, 3))
    makers = []
    for k in range(n_makers):
        makers.append({
            "trader": draw(st.integers(0, 2)), "buy": draw(st.booleans()), "size": draw(st.integers(1, 6)) * UNIT,
            "price": PRICE + draw(st.integers(-5, 5)) * TICK, "nonce": 10 + k,
        })  # fmt: skip
    remaining = [m["size"] for m in makers]
    fills = []
    for j in range(draw(st.integers(1, 7))):
        open_ = [i for i, r in enumerate(remaining) if r > 0]
        if not open_:
            break
        mi = draw(st.sampled_from(open_))
        m = makers[mi]
        taker = draw(st.sampled_from([t for t in range(3) if t != m["trader"]]))
        size = draw(st.integers(1, remaining[mi] // UNIT)) * UNIT
        extra = draw(st.integers(0, 2)) * UNIT  # taker order may be larger than this fill (partially filled)
        slack = draw(st.integers(0, 3)) * TICK  # taker limit better than the maker's price
        remaining[mi] -= size
        fills.append({"maker": mi, "taker": taker, "size": size, "taker_size": size + extra, "slack": slack,
                      "nonce": 100 + j})  # fmt: skip
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(fills) - 1)), max_size=2))))
    return makers, fills, cuts, draw(st.booleans())


@given(flow=flows())
def test_random_flows_match_model(chain, settlement, perp, operator, funded, signer, flow):
    makers, fills, cuts, overfill = flow
    traders = list(funded)
    with isolated(chain):
        maker_orders = [order(traders[m["trader"]], buy=m["buy"], size=m["size"], price=m["price"], nonce=m["nonce"])
                        for m in makers]  # fmt: skip
        settlement_fills = []
        taker_orders = []
        for f in fills:
            mo = maker_orders[f["maker"]]
            taker_buy = not mo.isBuy
            limit = mo.limitPrice + (f["slack"] if taker_buy else -f["slack"])
            to = order(traders[f["taker"]], buy=taker_buy, size=f["taker_size"], price=limit, nonce=f["nonce"])
            taker_orders.append(to)
            settlement_fills.append(signer.fill(mo, traders[makers[f["maker"]]["trader"]], to, traders[f["taker"]],
                                                size=f["size"]))  # fmt: skip
        filled: dict[bytes, int] = {}
        position = [0, 0, 0]
        bounds = [0, *cuts, len(settlement_fills)]
        for start, end in itertools.pairwise(bounds):
            batch = settlement_fills[start:end]
            if not batch:
                continue
            if overfill and end == len(settlement_fills):
                # the first maker order, asked for more than it has left: the batch reverts as a whole
                mo = maker_orders[0]
                left = mo.size - filled.get(bytes(mo.digest(signer.domain)), 0) - sum(
                    f.size_x18 for f in batch if f.maker.order == mo)  # fmt: skip
                bad_taker = order(traders[(makers[0]["trader"] + 1) % 3], buy=not mo.isBuy, size=left + UNIT,
                                  price=mo.limitPrice, nonce=999)  # fmt: skip
                bad = signer.fill(mo, traders[makers[0]["trader"]], bad_taker, traders[(makers[0]["trader"] + 1) % 3],
                                  size=left + UNIT)  # fmt: skip
                with ape.reverts(settlement.SettlementFillRejected, fillIndex=len(batch), reason=17):
                    settle(settlement, operator, [*batch, bad])
            settle(settlement, operator, batch)
            for f, spec in zip(batch, fills[start:end], strict=True):
                for so in (f.maker, f.taker):
                    filled[so.hash] = filled.get(so.hash, 0) + f.size_x18
                delta = f.size_x18 if f.taker.order.isBuy else -f.size_x18
                position[spec["taker"]] += delta
                position[makers[spec["maker"]]["trader"]] -= delta
            for so in [*maker_orders, *taker_orders]:
                h = so.digest(signer.domain)
                assert settlement.orderState(order_tuple(so))[1:] == (filled.get(h, 0), False)
            for i, t in enumerate(traders):
                assert perp.engine.positionOf(t, 1, 0).size == position[i]
        assert settlement.lastBatchId() == len([1 for s, e in itertools.pairwise(bounds) if e > s])
