"""WebSocket streams through real uvicorn with the `websockets` client: depth, trades, private updates."""

from __future__ import annotations

import json

import pytest
from gw_helpers import ADDRS, KEYS, ONE, auth, body, login, order
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from offchain.gateway.streams import Hub

ALICE, BOB = ADDRS[0], ADDRS[1]
KA, KB = KEYS[0], KEYS[1]


def recv(ws) -> dict:
    return json.loads(ws.recv(timeout=5))


def test_depth_snapshot_then_updates_in_sequence(server, client):
    client.post("/orders", json=body(order(ALICE, buy=False, size=2 * ONE), KA))
    with connect(f"{server.ws_url}/ws/depth/1") as ws:
        snap = recv(ws)
        assert snap["type"] == "snapshot" and snap["seq"] == 1
        assert snap["asks"] == [[str(2000 * ONE), str(2 * ONE)]] and snap["bids"] == []
        client.post("/orders", json=body(order(BOB, buy=True, size=ONE, price=1999 * ONE), KB))
        client.post("/orders", json=body(order(BOB, buy=True, size=ONE, nonce=2), KB))
        updates = [recv(ws) for _ in range(2)]
    assert [u["seq"] for u in updates] == [2, 3]
    assert (updates[0]["side"], updates[0]["price"], updates[0]["size"]) == ("bid", str(1999 * ONE), str(ONE))
    assert (updates[1]["side"], updates[1]["price"], updates[1]["size"]) == ("ask", str(2000 * ONE), str(ONE))
    # The REST snapshot agrees with snapshot + updates.
    book = client.get("/markets/1/book").json()
    assert book["seq"] == 3 and book["asks"] == [[str(2000 * ONE), str(ONE)]]


def test_trades_stream(server, client):
    with connect(f"{server.ws_url}/ws/trades/1") as ws:
        assert recv(ws) == {"type": "subscribed", "marketId": 1}
        client.post("/orders", json=body(order(ALICE, buy=False), KA))
        client.post("/orders", json=body(order(BOB, buy=True), KB))
        trade = recv(ws)
    assert (trade["type"], trade["price"], trade["size"], trade["takerIsBuy"]) == (
        "trade",
        str(2000 * ONE),
        str(ONE),
        True,
    )


def test_private_stream_gets_only_the_callers_orders_and_fills(server, client):
    token = login(client, KA)
    with connect(f"{server.ws_url}/ws/private?token={token}") as ws:
        assert recv(ws) == {"type": "subscribed", "account": ALICE}
        client.post("/orders", json=body(order(BOB, buy=True, price=1000 * ONE), KB))  # not Alice's
        maker = client.post("/orders", json=body(order(ALICE, buy=False, size=2 * ONE), KA)).json()["order"]["hash"]
        client.post("/orders", json=body(order(BOB, buy=True, nonce=2), KB))
        client.delete(f"/orders/{maker}", headers=auth(token))
        msgs = [recv(ws) for _ in range(4)]
    assert [(m["type"], m.get("status")) for m in msgs] == [
        ("order", "accepted"), ("fill", None), ("order", "partially_filled"), ("order", "cancelled")]  # fmt: skip
    assert all(m.get("hash", maker) == maker for m in msgs)
    assert msgs[1]["maker"] == ALICE and msgs[1]["taker"] == BOB


def test_private_stream_with_bearer_header(server, client):
    token = login(client, KB)
    with connect(f"{server.ws_url}/ws/private", additional_headers=auth(token)) as ws:
        assert recv(ws)["account"] == BOB


@pytest.mark.parametrize("path", ["/ws/private", "/ws/private?token=forged", "/ws/depth/9", "/ws/trades/9"])
def test_streams_refuse_bad_requests(server, path):
    with pytest.raises((ConnectionClosed, Exception)) as err, connect(f"{server.ws_url}{path}") as ws:
        ws.recv(timeout=5)
    assert "1008" in str(err.value) or "403" in str(err.value)


def test_slow_consumer_is_dropped_not_blocking():
    hub = Hub(max_queue=3)
    slow, fast = hub.subscribe("trades:1"), hub.subscribe("trades:1")
    for n in range(3):
        hub.publish("trades:1", {"n": n})
        fast.queue.get_nowait()  # the fast client keeps up
    hub.publish("trades:1", {"n": 3})
    assert slow.dropped and not fast.dropped
    assert [slow.queue.get_nowait() for _ in range(4)] == [{"n": 0}, {"n": 1}, {"n": 2}, None]
    assert hub.topics["trades:1"] == {fast} and fast.queue.get_nowait() == {"n": 3}
