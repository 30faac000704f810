"""REST API through a real HTTP client against uvicorn on a free loopback port."""

from __future__ import annotations

import httpx
import pytest
from gw_helpers import ADDRS, DOMAIN, KEYS, LOT, ONE, auth, body, login, order

from offchain.gateway import GatewayConfig
from offchain.gateway.reader import AccountState, PositionView
from offchain.orders.order import FLAG_POST_ONLY, FLAG_VIA_API, Domain

ALICE, BOB, CAROL = ADDRS[0], ADDRS[1], ADDRS[2]
KA, KB, KC = KEYS[0], KEYS[1], KEYS[2]


def test_markets_and_empty_book(client):
    markets = client.get("/markets").json()
    assert [(m["marketId"], m["symbol"], m["maxLeverage"]) for m in markets] == [
        (1, "ETH-PERP", 20),
        (2, "BTC-PERP", 50),
    ]
    assert markets[0]["lotSize"] == str(LOT)
    book = client.get("/markets/1/book").json()
    assert book == {"marketId": 1, "seq": 0, "bids": [], "asks": []}
    missing = client.get("/markets/9/book")
    assert missing.status_code == 404 and missing.json()["error"] == "unknown_market"


def test_orders_match_and_show_in_book_orders_and_fills(client):
    maker = client.post("/orders", json=body(order(ALICE, buy=False, size=3 * ONE), KA))
    assert maker.status_code == 200, maker.text
    assert maker.json()["order"]["status"] == "accepted" and maker.json()["fills"] == []
    book = client.get("/markets/1/book").json()
    assert book["asks"] == [[str(2000 * ONE), str(3 * ONE)]] and book["seq"] == 1
    # The taker's integers as decimal strings are accepted too.
    taker = client.post("/orders", json=body(order(BOB, buy=True, size=ONE, price=2001 * ONE), KB, ints_as_str=True))
    assert taker.status_code == 200, taker.text
    ack = taker.json()
    assert ack["order"]["status"] == "filled" and ack["order"]["remaining"] == "0"
    [fill] = ack["fills"]
    assert (fill["maker"], fill["taker"], fill["price"], fill["size"], fill["takerIsBuy"]) == (
        ALICE, BOB, str(2000 * ONE), str(ONE), True)  # fmt: skip
    assert client.get("/markets/1/book").json()["asks"] == [[str(2000 * ONE), str(2 * ONE)]]

    ta = login(client, KA)
    [open_order] = client.get("/orders", headers=auth(ta)).json()
    assert open_order["hash"] == maker.json()["order"]["hash"]
    assert (open_order["status"], open_order["remaining"]) == ("partially_filled", str(2 * ONE))
    assert client.get("/fills", headers=auth(ta)).json() == [fill]
    tb = login(client, KB)
    assert client.get("/orders", headers=auth(tb)).json() == []
    recent = client.get("/orders", params={"status": "recent"}, headers=auth(tb)).json()
    assert [o["status"] for o in recent] == ["filled"]
    status = client.get(f"/orders/{ack['order']['hash']}", headers=auth(tb))
    assert status.json()["status"] == "filled"
    # Alice cannot see Bob's order.
    assert client.get(f"/orders/{ack['order']['hash']}", headers=auth(ta)).status_code == 404


def test_cancel_and_cancel_all(client):
    hashes = []
    for nonce, market in ((1, 1), (2, 1), (3, 2)):
        resp = client.post("/orders", json=body(order(ALICE, buy=True, nonce=nonce, marketId=market), KA))
        hashes.append(resp.json()["order"]["hash"])
    token = login(client, KA)
    other = login(client, KB)
    assert client.delete(f"/orders/{hashes[0]}", headers=auth(other)).status_code == 404
    cancelled = client.delete(f"/orders/{hashes[0]}", headers=auth(token))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.delete(f"/orders/{hashes[0]}", headers=auth(token))
    assert again.status_code == 409 and again.json()["error"] == "order_not_open"
    resp = client.post("/orders/cancel-all", json={"marketId": 2}, headers=auth(token))
    assert resp.json() == {"cancelled": [hashes[2]]}
    resp = client.post("/orders/cancel-all", json={}, headers=auth(token))
    assert resp.json() == {"cancelled": [hashes[1]]}
    assert client.get("/orders", headers=auth(token)).json() == []
    assert client.get("/markets/1/book").json()["bids"] == []
    assert client.post("/orders/cancel-all", headers=auth(token)).json() == {"cancelled": []}  # no body: all


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda o: (o, KC, DOMAIN), 401, "bad_signature"),  # signed by a stranger's key
        (lambda o: (o.__class__(**{**o.as_message(), "flags": 0}), KA, DOMAIN), 400, "via_api_flag_required"),
        (lambda o: (o.__class__(**{**o.as_message(), "marketId": 7}), KA, DOMAIN), 400, "rejected"),
        (lambda o: (o.__class__(**{**o.as_message(), "size": LOT + 1}), KA, DOMAIN), 400, "rejected"),
        (lambda o: (o.__class__(**{**o.as_message(), "expiry": 5}), KA, DOMAIN), 400, "rejected"),
        (lambda o: (o.__class__(**{**o.as_message(), "leverage": 21}), KA, DOMAIN), 400, "rejected"),
    ],
)
def test_order_refusals_name_the_problem(client, mutate, status, code):
    o, key, domain = mutate(order(ALICE, buy=True))
    resp = client.post("/orders", json=body(o, key, domain))
    assert resp.status_code == status, resp.text
    assert resp.json()["error"] == code and resp.json()["message"]
    assert client.get("/markets/1/book").json()["bids"] == []


def test_order_for_another_domain_is_refused(client):
    other = Domain(1, DOMAIN.verifying_contract)
    b = body(order(ALICE, buy=True), KA, other)
    resp = client.post("/orders", json={**b, "chainId": 1})
    assert resp.status_code == 400 and resp.json()["error"] == "wrong_domain"
    # Without chainId the gateway's domain is assumed and the signature no longer matches the trader.
    assert client.post("/orders", json=b).json()["error"] == "bad_signature"


def test_duplicate_and_post_only_cross_are_refused_without_touching_the_first(client):
    b = body(order(ALICE, buy=False), KA)
    first = client.post("/orders", json=b).json()["order"]["hash"]
    dup = client.post("/orders", json=b)
    assert dup.status_code == 400 and "duplicate" in dup.json()["message"]
    cross = client.post("/orders", json=body(order(BOB, buy=True, flags=FLAG_VIA_API | FLAG_POST_ONLY), KB))
    assert cross.status_code == 400 and "post-only" in cross.json()["message"]
    token = login(client, KA)
    assert client.get(f"/orders/{first}", headers=auth(token)).json()["status"] == "accepted"


def test_malformed_input_is_4xx_with_a_message(client):
    good = body(order(ALICE, buy=True), KA)
    cases = [
        {**good, "signature": "0x1234"},
        {**good, "order": {**good["order"], "size": 2**128}},
        {**good, "order": {**good["order"], "size": "12a"}},
        {**good, "order": {**good["order"], "isBuy": "yes"}},
        {**good, "order": {**good["order"], "trader": "0x123"}},
        {**good, "unexpected": 1},
        {"order": good["order"]},
        [1, 2, 3],
    ]
    for case in cases:
        resp = client.post("/orders", json=case)
        assert resp.status_code == 422, (case, resp.text)
        assert resp.json()["error"] == "invalid_request" and resp.json()["message"]
    resp = client.post("/orders", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 422
    high_s = bytearray(bytes.fromhex(good["signature"][2:]))
    high_s[32:64] = (2**256 - 1).to_bytes(32, "big")
    resp = client.post("/orders", json={**good, "signature": "0x" + high_s.hex()})
    assert resp.status_code == 401 and "high-s" in resp.json()["message"]


def test_compliance_registry_is_consulted(client, reader):
    reader.block(CAROL)
    resp = client.post("/orders", json=body(order(CAROL, buy=True), KC))
    assert resp.status_code == 403 and resp.json()["error"] == "compliance"


def test_allowlist_enforced(gateway, reader, client):
    reader.allow_all = False
    reader.allow(ALICE)
    assert client.post("/orders", json=body(order(ALICE, buy=True), KA)).status_code == 200
    assert client.post("/orders", json=body(order(BOB, buy=True), KB)).status_code == 403


def test_login_nonce_is_single_use_and_bound_to_the_account(client):
    c = client.post("/auth/challenge", json={"account": ALICE}).json()
    assert c["typedData"]["primaryType"] == "Login" and c["typedData"]["domain"]["chainId"] == DOMAIN.chain_id
    from offchain.gateway.auth import login_digest
    from offchain.orders.signing import sign_digest

    sig = sign_digest(login_digest(DOMAIN, ALICE, bytes.fromhex(c["nonce"][2:]), c["expiry"]), KA)
    req = {"account": ALICE, "nonce": c["nonce"], "signature": "0x" + sig.hex()}
    assert client.post("/auth/login", json={**req, "account": BOB}).status_code == 401  # consumes the nonce
    replay = client.post("/auth/login", json=req)
    assert replay.status_code == 401 and "already used" in replay.json()["message"]
    # A stranger's signature over a fresh challenge is refused.
    c2 = client.post("/auth/challenge", json={"account": ALICE}).json()
    bad = sign_digest(login_digest(DOMAIN, ALICE, bytes.fromhex(c2["nonce"][2:]), c2["expiry"]), KC)
    resp = client.post("/auth/login", json={"account": ALICE, "nonce": c2["nonce"], "signature": "0x" + bad.hex()})
    assert resp.status_code == 401 and "API key" in resp.json()["message"]


def test_private_endpoints_need_a_session(client):
    for method, path in (("GET", "/orders"), ("GET", "/fills"), ("GET", "/account"), ("POST", "/orders/cancel-all")):
        resp = client.request(method, path, json={} if method == "POST" else None)
        assert resp.status_code == 401 and resp.json()["error"] == "unauthorized", path
    assert client.get("/orders", headers=auth("forged")).status_code == 401
    token = login(client, KA)
    assert client.post("/auth/logout", headers=auth(token)).status_code == 204
    assert client.get("/orders", headers=auth(token)).status_code == 401


def test_delegated_api_key_logs_in_and_signs_orders(client, reader, gateway):
    api_key, api_addr = KEYS[5], ADDRS[5]
    o = order(ALICE, buy=True)
    assert client.post("/orders", json=body(o, api_key)).json()["error"] == "bad_signature"
    reader.authorize(ALICE, api_addr, gateway.service.now() + 3600)
    gateway.service._delegates.values.clear()  # the refusal above was cached; the test does not wait out the TTL
    resp = client.post("/orders", json=body(o, api_key))
    assert resp.status_code == 200, resp.text
    token = login(client, api_key, account=ALICE)
    assert [x["hash"] for x in client.get("/orders", headers=auth(token)).json()] == [resp.json()["order"]["hash"]]
    # Revocation: the matcher cancels the delegate's orders, the session stops working.
    reader.authorize(ALICE, api_addr, 0)
    gateway.service._delegates.values.clear()
    assert client.get("/orders", headers=auth(token)).status_code == 401


def test_account_state_from_the_reader(client, reader):
    pos = PositionView(1, 0, 2 * ONE, 4000 * ONE, 2000 * ONE, 2 * ONE // 100)
    reader.set_state(AccountState(ALICE, ADDRS[7], 1000 * ONE, 1000 * ONE, 400 * ONE, 80 * ONE, 25 * ONE // 10,
                                  False, (pos,)))  # fmt: skip
    token = login(client, KA)
    [acct] = client.get("/account", headers=auth(token)).json()
    assert acct["equity"] == str(1000 * ONE) and acct["marginRatio"] == str(25 * ONE // 10)
    [p] = acct["positions"]
    # Long 2 at 2000 with 1000 equity, mmr 2%: 1000 + 2 (P - 2000) = 2 P 0.02  =>  P = 3000 / 1.96.
    assert int(p["liquidationPrice"]) == 3000 * ONE * 100 // 196
    assert client.get("/account", headers=auth(login(client, KB))).json() == []


def test_body_size_limit_is_413(client, gateway):
    big = {"account": "0x" + "ab" * 20, "pad": "x" * (gateway.config.max_body_bytes + 1)}
    resp = client.post("/auth/challenge", json=big)
    assert resp.status_code == 413 and resp.json()["error"] == "too_large"

    def chunks():
        yield b'{"account": "'
        for _ in range(64):
            yield b"a" * 1024

    resp = client.post("/auth/challenge", content=chunks(), headers={"content-type": "application/json"})
    assert resp.status_code == 413


@pytest.mark.parametrize("gw_config", [GatewayConfig(account_rate=1.0, account_burst=3)])
def test_account_rate_limit_429_with_retry_after(client):
    codes = [client.post("/orders", json=body(order(ALICE, buy=True, nonce=n), KA)).status_code for n in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    resp = client.post("/orders", json=body(order(ALICE, buy=True, nonce=9), KA))
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert "account" in resp.json()["message"]
    # Another account is not affected.
    assert client.post("/orders", json=body(order(BOB, buy=True), KB)).status_code == 200


@pytest.mark.parametrize("gw_config", [GatewayConfig(ip_rate=1.0, ip_burst=5)])
def test_ip_rate_limit_429(client):
    codes = [client.get("/markets").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    assert client.get("/health").status_code == 200  # monitoring is exempt


def test_health_and_metrics(client):
    client.post("/orders", json=body(order(ALICE, buy=False), KA))
    client.post("/orders", json=body(order(BOB, buy=True), KB))
    client.post("/orders", json=body(order(BOB, buy=True, flags=0), KB))
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["markets"] == 2 and health["openOrders"] == 0
    text = client.get("/metrics").text
    assert 'perpx_gateway_orders_total{result="accepted"} 2.0' in text
    assert 'perpx_gateway_rejects_total{reason="via_api_flag_required"} 1.0' in text
    assert 'perpx_matcher_fills_total{market="1"} 1.0' in text
    assert 'perpx_gateway_request_latency_seconds_count{method="POST",route="submit_order"} 3.0' in text


def test_openapi_lists_every_route(client):
    spec = client.get("/openapi.json").json()
    assert {"/orders", "/orders/{order_hash}", "/orders/cancel-all", "/fills", "/account", "/markets",
            "/markets/{market_id}/book", "/auth/challenge", "/auth/login", "/health"} <= set(spec["paths"])  # fmt: skip


def test_unknown_route_and_method_are_json_4xx(client):
    assert client.get("/nope").json()["error"] == "not_found"
    resp = client.put("/markets")
    assert resp.status_code == 405 and resp.json()["error"] == "method_not_allowed"


def test_client_library(server):
    from offchain.gateway.client import GatewayClient, GatewayRequestError

    c = GatewayClient(server.url, KA, DOMAIN)
    c.login()
    ack = c.submit(order(ALICE, buy=True, flags=0))  # the client adds the via-API flag
    assert ack["order"]["status"] == "accepted"
    assert [o["hash"] for o in c.open_orders()] == [ack["order"]["hash"]]
    assert c.cancel(ack["order"]["hash"])["status"] == "cancelled"
    with pytest.raises(GatewayRequestError) as err:
        c.cancel(ack["order"]["hash"])
    assert err.value.status == 409
    c.close()


def test_uses_real_http(server):
    assert httpx.get(server.url + "/health").status_code == 200


@pytest.mark.parametrize("gw_config", [GatewayConfig(expire_interval=0.05)])
def test_expired_orders_are_cancelled_by_the_clock_tick(client, gateway):
    import time

    now = gateway.service.now()
    resp = client.post("/orders", json=body(order(ALICE, buy=True, expiry=now + 100), KA))
    order_hash = resp.json()["order"]["hash"]
    applied = gateway.service.matcher.applied_seq
    time.sleep(0.2)
    assert gateway.service.matcher.applied_seq == applied  # nothing to expire: no journal record per tick
    gateway.service.clock = lambda: time.time() + 200
    token = login(client, KA)
    deadline = time.monotonic() + 5
    while client.get(f"/orders/{order_hash}", headers=auth(token)).json()["status"] != "cancelled":
        assert time.monotonic() < deadline, "order not expired"
        time.sleep(0.05)
    assert client.get(f"/orders/{order_hash}", headers=auth(token)).json()["reason"] == "order expired"
    assert client.get("/markets/1/book").json()["bids"] == []


def test_restart_from_the_matcher_journal_keeps_open_orders(tmp_path):
    from gw_helpers import MARKETS

    from offchain.gateway import MemoryChainReader, build_gateway, serve_in_background
    from offchain.matcher.engine import Matcher
    from offchain.orders.signing import sign_order

    first = Matcher.recover(tmp_path, DOMAIN, MARKETS)
    resting = sign_order(order(ALICE, buy=False, size=3 * ONE), DOMAIN, KA)
    first.submit(resting, 1)
    first.submit(sign_order(order(BOB, buy=True, size=ONE), DOMAIN, KB), 1)
    gw = build_gateway(Matcher.recover(tmp_path, DOMAIN, MARKETS), MemoryChainReader())
    server = serve_in_background(gw.app)
    try:
        with httpx.Client(base_url=server.url) as client:
            [o] = client.get("/orders", headers=auth(login(client, KA))).json()
            assert (o["hash"], o["status"], o["remaining"]) == (
                "0x" + resting.hash.hex(),
                "partially_filled",
                str(2 * ONE),
            )
            assert (
                client.delete(f"/orders/{o['hash']}", headers=auth(login(client, KA))).json()["status"] == "cancelled"
            )
    finally:
        server.stop()


def test_expired_login_challenge_is_refused(client, gateway):
    import time

    from offchain.gateway.auth import login_digest
    from offchain.orders.signing import sign_digest

    c = client.post("/auth/challenge", json={"account": ALICE}).json()
    sig = sign_digest(login_digest(DOMAIN, ALICE, bytes.fromhex(c["nonce"][2:]), c["expiry"]), KA)
    gateway.service.clock = lambda: time.time() + gateway.config.challenge_ttl + 1
    resp = client.post("/auth/login", json={"account": ALICE, "nonce": c["nonce"], "signature": "0x" + sig.hex()})
    assert resp.status_code == 401 and "expired" in resp.json()["message"]


def test_sessions_expire(client, gateway):
    import time

    token = login(client, KA)
    assert client.get("/orders", headers=auth(token)).status_code == 200
    gateway.service.clock = lambda: time.time() + gateway.config.session_ttl + 1
    resp = client.get("/orders", headers=auth(token))
    assert resp.status_code == 401 and "expired" in resp.json()["message"]
