"""The demo session: deploy the full protocol with the shared deployment function, then run the acts.

``run`` is what ``ape run demo`` (``make demo``) calls on a fresh local anvil chain.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

from offchain.demo import acts
from offchain.demo.actors import PriceWorld
from offchain.demo.checks import check_conservation
from offchain.demo.context import ONE, Demo, quiet_stdout
from offchain.demo.exchange import Exchange
from offchain.demo.gateway_act import act_gateway, serve
from offchain.demo.report import Report
from offchain.deployment.config import CONFIG_DIR, dev_key
from offchain.deployment.network import deploy_network, load_network_config
from offchain.oracle.reporter import Reporter
from offchain.oracle.signing import ReportSigner
from offchain.oracle.submitter import Submitter

LOCAL_CONFIG = CONFIG_DIR / "ethereum-local.yaml"
SOURCES = 5
FAULTY_SOURCE = 5
FAULTY_BIAS_BPS = 2_000


def _oracle_submitter(demo_chain: Any, oracle: Any, sender: Any, world: PriceWorld) -> Submitter:
    """Five reporters over the same world; the last one is biased by +20% (it must be isolated)."""
    reporters = []
    for i in range(1, SOURCES + 1):
        signer = ReportSigner(dev_key(f"source-{i}"), demo_chain.chain_id, str(oracle.address))
        bias = FAULTY_BIAS_BPS if i == FAULTY_SOURCE else 0
        reporters.append(Reporter(f"source-{i}", signer, world.feed(f"source-{i}", bias)))
    return Submitter(oracle, sender, reporters, list(world.prices), clock=lambda: int(demo_chain.blocks.head.timestamp))


def run(
    project: Any,
    chain: Any,
    accounts: Any,
    report: Report,
    *,
    n_traders: int = 2,
    minutes: float = 0.0,
    seed: int = 7,
    bridge_locks: int = 3,
    workdir: Path | None = None,
    serve_gateway: float = 0.0,
    gateway_port: int = 8080,
) -> tuple[dict[str, Any], Demo]:
    """Deploy on the connected local chain, run the session, record checks; returns (figures, demo).

    ``serve_gateway``: keep the REST/WebSocket gateway up this many seconds after the session (0: do not), on
    loopback ``gateway_port``."""
    rng = random.Random(seed)
    started = time.monotonic()
    if hasattr(chain.provider, "set_block_gas_limit"):
        chain.provider.set_block_gas_limit(60_000_000)
    with tempfile.TemporaryDirectory(prefix="perpx-demo-") as tmp:
        work = Path(workdir or tmp)
        report.step("deploying the full protocol from deployments/config/ethereum-local.yaml")
        config = load_network_config(LOCAL_CONFIG, chain.chain_id, accounts)
        with quiet_stdout():
            deployment = deploy_network(
                project, chain.provider, accounts[0], ecosystem="ethereum", network="local", config_file=LOCAL_CONFIG,
                record_file=work / "ethereum-local.json", test_accounts=accounts, log=lambda _: None,
            )  # fmt: skip
        for name, contract in deployment.contracts.items():
            report.info(f"{name:<20} {contract.address}")
        roles = {
            "deployer": accounts[0], "operator": accounts[1], "keeper": accounts[2], "guardian": accounts[3],
            "compliance": accounts[4], "minter": accounts[4], "council": accounts[5], "treasury": accounts[6],
        }  # fmt: skip
        world = PriceWorld({"ETH": 2_000 * ONE, "AAPL": 190 * ONE})
        exchange = Exchange.open(deployment, roles["operator"], chain.provider, work, acts.market_configs(deployment))
        submitter = _oracle_submitter(chain, deployment.oracle, roles["keeper"], world)
        demo = Demo(project, chain, config, deployment, roles, report, world, exchange, submitter)

        acts.act_oracle(demo)
        acts.act_governance(demo)
        acts.act_traders(demo, accounts, n_traders)
        acts.act_market_maker(demo)
        acts.act_orders(demo)
        acts.act_noise(demo, rng, rounds=1)
        act_gateway(demo, acts.settle)
        acts.act_funding(demo)
        while minutes and time.monotonic() - started < minutes * 60:
            demo.world.move("ETH", rng.randint(9_950, 10_050), demo.now)
            demo.report_prices()
            exchange.matcher.expire(demo.now)  # resting orders past their expiry leave the books
            acts.act_market_maker(demo)
            acts.act_noise(demo, rng, rounds=1)
            acts.act_funding(demo)
        acts.act_crash(demo)
        acts.act_stock_token(demo)
        if bridge_locks:
            acts.act_bridge(demo, bridge_locks)
        if serve_gateway:
            serve(demo, serve_gateway, acts.settle, gateway_port)
        check_conservation(demo)
        exchange.store.close()
    return _figures(demo), demo


def _figures(demo: Demo) -> dict[str, Any]:
    ex = demo.exchange
    gas = sum(g for g, _ in ex.batch_gas)
    fills = sum(n for _, n in ex.batch_gas)
    out: dict[str, Any] = {
        "traders": len(demo.traders),
        "orders": len({u.order_hash for u in ex.updates}),
        "batches settled": ex.client.last_batch_id(),
        "fills settled": ex.settled_fills,
        "gas per fill (settleBatch, whole tx)": f"{gas // fills:,}" if fills else "n/a",
    }
    out.update({k: v for k, v in demo.figures.items() if k != "keeper" and not k.startswith("oracle_")})
    return out
