"""Web3.py deployment of a bridge on two chains (tests, demos, the two-anvil script).

Contracts come from ape's build output; transactions are signed locally by the given accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain import roles
from offchain.bridge.artifacts import DEFAULT_BUILD, load_artifact


def send(w3: Web3, account: LocalAccount, call: Any, *, gas: int | None = None) -> Any:
    """Sign ``call`` (a web3 ContractFunction or constructor) with ``account``, send it, return the receipt."""
    params: dict[str, Any] = {
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "chainId": w3.eth.chain_id,
    }
    if gas is not None:
        params["gas"] = gas
    tx = call.build_transaction(params)
    signed = account.sign_transaction(tx)
    w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(signed.hash, timeout=60)
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction {signed.hash.hex()} reverted")
    return receipt


def deploy(w3: Web3, account: LocalAccount, name: str, *args: Any, build_file: Path = DEFAULT_BUILD) -> Any:
    """Deploy contract ``name`` from the build output; returns the web3 Contract."""
    art = load_artifact(name, build_file)
    factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    receipt = send(w3, account, factory.constructor(*args))
    return w3.eth.contract(address=receipt["contractAddress"], abi=art.abi)


@dataclass
class BridgeSide:
    """What one chain of a bridge pair holds."""

    w3: Web3
    chain_id: int
    acl: Any
    compliance: Any
    bridge: Any
    token: Any = None


@dataclass(frozen=True)
class BridgeParams:
    """Bridge constructor parameters shared by both sides."""

    validators: list[str]
    threshold: int
    delay_seconds: int = 3600
    delay_blocks: int = 10
    rate_window: int = 86400


def deploy_side(
    w3: Web3, admin: LocalAccount, guardian: str, params: BridgeParams, *, build_file: Path = DEFAULT_BUILD
) -> BridgeSide:
    """Deploy ProtocolAccess, ComplianceRegistry (allowlist enforced) and Bridge on one chain."""
    acl = deploy(w3, admin, "ProtocolAccess", admin.address, build_file=build_file)
    send(w3, admin, acl.functions.grantRole(roles.GUARDIAN, guardian))
    send(w3, admin, acl.functions.grantRole(roles.COMPLIANCE, admin.address))
    compliance = deploy(w3, admin, "ComplianceRegistry", acl.address, True, build_file=build_file)
    bridge = deploy(
        w3,
        admin,
        "Bridge",
        acl.address,
        compliance.address,
        params.validators,
        params.threshold,
        params.delay_seconds,
        params.delay_blocks,
        params.rate_window,
        build_file=build_file,
    )
    return BridgeSide(w3=w3, chain_id=w3.eth.chain_id, acl=acl, compliance=compliance, bridge=bridge)


def connect_native_to_wrapped(
    home: BridgeSide,
    away: BridgeSide,
    admin: LocalAccount,
    *,
    name: str,
    symbol: str,
    decimals: int,
    delay_threshold: int,
    rate_capacity: int,
    build_file: Path = DEFAULT_BUILD,
) -> None:
    """Deploy a native MockERC20 on ``home`` and its BridgedToken on ``away`` and route them both ways."""
    home.token = deploy(home.w3, admin, "MockERC20", name, symbol, decimals, build_file=build_file)
    away.token = deploy(
        away.w3,
        admin,
        "BridgedToken",
        f"Bridged {name}",
        f"b{symbol}",
        decimals,
        away.bridge.address,
        build_file=build_file,
    )
    for side, other, wrapped in ((home, away, False), (away, home, True)):
        b = side.bridge.functions
        send(side.w3, admin, b.configureToken(side.token.address, True, wrapped, delay_threshold, rate_capacity))
        send(side.w3, admin, b.setRoute(side.token.address, other.chain_id, other.token.address))
        send(side.w3, admin, b.setRemoteBridge(other.chain_id, other.bridge.address))


def allow(side: BridgeSide, admin: LocalAccount, accounts: list[str], expiry: int) -> None:
    """Allowlist ``accounts`` at tier 1 on ``side`` (admin holds the compliance role there)."""
    send(
        side.w3,
        admin,
        side.compliance.functions.setAllowedBatch(accounts, [1] * len(accounts), [expiry] * len(accounts)),
    )


# --------------------------------------------------------------------------- ape deployment steps
# Steps in the style of offchain/deploy.py (ape ``project`` + ``CoreDeployment``), to be folded into
# the shared deployment by the lead.


def deploy_bridge(project: Any, deployer: Any, core: Any, params: BridgeParams) -> Any:
    """Deploy a Bridge on the connected network against ``core`` (acl, compliance); returns it."""
    return project.Bridge.deploy(
        core.acl,
        core.compliance,
        sorted(params.validators, key=lambda a: int(a, 16)),
        params.threshold,
        params.delay_seconds,
        params.delay_blocks,
        params.rate_window,
        sender=deployer,
    )


def deploy_stock_token(
    project: Any, deployer: Any, core: Any, *, name: str, symbol: str, custodian: str, max_age: int, minters: list[Any]
) -> Any:
    """Deploy a StockToken and grant ``Roles.MINTER`` to ``minters`` (deployer must be admin)."""
    token = project.StockToken.deploy(name, symbol, core.acl, core.compliance, custodian, max_age, sender=deployer)
    for minter in minters:
        core.acl.grantRole(roles.MINTER, minter, sender=deployer)
    return token
