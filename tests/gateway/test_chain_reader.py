"""The web3 chain reader against a real anvil deployment (Vault, PerpEngine, ComplianceRegistry, Settlement),
and the gateway serving it over HTTP: account state, compliance and API-key delegation read from the chain."""

from __future__ import annotations

import httpx
import pytest
from eth_utils import keccak
from gw_helpers import auth, login

from offchain.gateway import GatewayConfig, build_gateway, serve_in_background
from offchain.gateway.web3_reader import Web3ChainReader
from offchain.matcher.engine import MarketConfig, Matcher
from offchain.orders.order import FLAG_VIA_API, Order
from offchain.orders.signing import sign_order
from offchain.perp.deploy import deploy_perp, risk_params, trading_params
from offchain.settlement.deploy import deploy_settlement, domain_of

ONE = 10**18
USDC = 10**6
ETH = keccak(text="ETH")
TICK, LOT = 10**16, 10**15


def key_of(account) -> bytes:
    return bytes.fromhex(str(account.private_key).removeprefix("0x"))


@pytest.fixture(scope="module")
def deployed(project, chain, admin, core, usdc, traders, stranger):  # session fixtures first: ape isolation
    alice, bob, _ = traders
    oracle = project.MockPriceOracle.deploy(sender=admin)
    oracle.setPrice(ETH, 2_000 * ONE, sender=admin)
    perp = deploy_perp(project, admin, core, oracle, treasury=admin, insurance_fund=admin, settlers=[admin])
    perp.registry.listMarket(ETH, usdc, 0, risk_params(20, 2 * ONE // 100), trading_params(TICK, LOT), sender=admin)
    settlement = deploy_settlement(project, admin, core, perp)
    for trader, amount in ((alice, 1_000), (bob, 100_000)):
        usdc.mint(trader, amount * USDC, sender=trader)
        usdc.approve(core.vault, 2**256 - 1, sender=trader)
        core.vault.deposit(usdc, amount * USDC, sender=trader)
    # Alice (taker) buys 2 ETH at 2000 from Bob (maker): long 2, notional 4000, equity ~1000.
    perp.engine.applyFills([(1, bob, alice, True, 2 * ONE, 2_000 * ONE, 0, 0)], sender=admin)
    addresses = {"vault": core.vault.address, "engine": perp.engine.address, "registry": perp.registry.address,
                 "compliance": core.compliance.address, "settlement": settlement.address}  # fmt: skip
    reader = Web3ChainReader.from_ape(project, chain.provider.web3, addresses)
    return {"oracle": oracle, "perp": perp, "settlement": settlement, "reader": reader}


def test_account_state_and_liquidation_price_match_the_engine(deployed, traders, usdc, admin):
    alice = traders[0]
    engine, oracle, reader = deployed["perp"].engine, deployed["oracle"], deployed["reader"]
    [state] = reader.account_states(str(alice))
    assert state.token == usdc.address
    assert state.equity_x18 == engine.equity(alice, usdc) and 900 * ONE < state.equity_x18 <= 1_000 * ONE
    assert state.collateral_x18 == 1_000 * ONE
    assert state.initial_margin_x18 == engine.initialMargin(alice, usdc)
    assert state.margin_ratio_x18 == engine.marginRatio(alice, usdc) and not state.liquidatable
    [pos] = state.positions
    assert (pos.market_id, pos.size_x18, pos.index_price_x18, pos.mmr_x18) == (1, 2 * ONE, 2_000 * ONE, 2 * ONE // 100)
    liq = pos.liquidation_price_x18
    assert liq is not None and 1_400 * ONE < liq < 1_600 * ONE
    # The estimate is the engine's threshold: just above it healthy, just below it liquidatable.
    oracle.setPrice(ETH, liq + liq // 10_000, sender=admin)
    assert not engine.isLiquidatable(alice, usdc)
    oracle.setPrice(ETH, liq - liq // 10_000, sender=admin)
    assert engine.isLiquidatable(alice, usdc)
    assert reader.account_states(str(alice))[0].liquidatable
    oracle.setPrice(ETH, 2_000 * ONE, sender=admin)
    # Bob is short 2 with 100k: no positive price liquidates him... except far above.
    [bob_state] = reader.account_states(str(traders[1]))
    assert bob_state.positions[0].size_x18 == -2 * ONE and bob_state.positions[0].liquidation_price_x18 > 50_000 * ONE


def test_gateway_over_the_chain_reader(deployed, traders, stranger, chain, usdc):
    alice, _, carol = traders
    reader, settlement = deployed["reader"], deployed["settlement"]
    assert reader.is_allowed(str(alice)) and not reader.is_allowed(str(stranger))
    expiry = chain.pending_timestamp + 3600
    settlement.authorizeDelegate(carol, expiry, sender=alice)
    assert reader.delegate_expiry(str(alice), str(carol)) == expiry
    domain = domain_of(settlement, chain.chain_id)
    gw = build_gateway(Matcher(domain, [MarketConfig(1, TICK, LOT, 20)]), reader, GatewayConfig())
    # The chain's clock, not the wall clock, decides delegation expiry here (anvil time may run ahead).
    gw.service.clock = lambda: chain.pending_timestamp
    server = serve_in_background(gw.app)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            token = login(client, key_of(carol), account=str(alice), domain=domain)  # API-key login
            [acct] = client.get("/account", headers=auth(token)).json()
            assert acct["equity"] == str(deployed["perp"].engine.equity(alice, usdc))
            assert acct["positions"][0]["size"] == str(2 * ONE) and acct["positions"][0]["liquidationPrice"]

            def signed(trader, key):
                o = Order(str(trader), 1, True, 0, FLAG_VIA_API, 10, ONE, 1_900 * ONE, ONE // 100, 7, 2**40)
                s = sign_order(o, domain, key)
                return {"order": o.as_message(), "signature": "0x" + s.signature.hex()}

            assert client.post("/orders", json=signed(alice, key_of(carol))).status_code == 200  # by the API key
            refused = client.post("/orders", json=signed(stranger, key_of(stranger)))
            assert refused.status_code == 403 and refused.json()["error"] == "compliance"
    finally:
        server.stop()
