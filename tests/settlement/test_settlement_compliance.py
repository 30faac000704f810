"""Settlement's calls out. SECURITY (compliance on the settlement path): one ComplianceRegistry.firstNotAllowed
call per batch, the same rule as isAllowed for every kind of account, its first refused trader mapped back to the
right fill and side; the engine (called with a low-level call) must be a contract."""

from __future__ import annotations

import ape
from helpers import assert_deploy_reverts
from settle_helpers import order, settle

ZERO = "0x0000000000000000000000000000000000000000"
MAKER_NOT_ALLOWED, TAKER_NOT_ALLOWED = 20, 21


def test_first_not_allowed_matches_is_allowed(compliance, compliance_officer, admin, funded, stranger, chain, accounts):
    alice, bob, carol = funded
    lapsing = accounts[8]
    compliance.setAllowed(lapsing, 1, chain.pending_timestamp + 5, sender=compliance_officer)
    compliance.setBlocked(carol, True, sender=compliance_officer)
    chain.mine(timestamp=chain.pending_timestamp + 10)  # lapsing's entry has lapsed

    def check(accts, expected):
        assert compliance.firstNotAllowed(accts) == expected
        first = next((k for k, a in enumerate(accts) if not compliance.isAllowed(a)), len(accts))
        assert first == expected

    check([], 0)
    check([alice, bob, alice], 3)
    check([alice, ZERO, bob], 1)
    check([alice, bob, carol, stranger], 2)  # blocked
    check([bob, stranger, carol], 1)  # never allowlisted
    check([alice, lapsing], 1)  # entry lapsed
    compliance.setAllowlistEnforced(False, sender=admin)
    check([alice, stranger, lapsing], 3)  # no entry needed any more
    check([stranger, carol], 1)  # the blocklist still wins
    check([ZERO], 0)


def test_refused_trader_rejects_its_fill_and_side(settlement, operator, funded, signer, compliance,
                                                   compliance_officer):  # fmt: skip
    alice, bob, carol = funded

    def fill(maker, taker, nonce):
        return signer.fill(order(maker, buy=False, nonce=nonce), maker, order(taker, buy=True, nonce=nonce), taker)

    fills = [fill(bob, alice, 1), fill(alice, bob, 2), fill(bob, carol, 3)]
    compliance.setBlocked(carol, True, sender=compliance_officer)
    with ape.reverts(settlement.SettlementFillRejected, fillIndex=2, reason=TAKER_NOT_ALLOWED):
        settle(settlement, operator, fills)
    fills[2] = fill(carol, bob, 3)
    with ape.reverts(settlement.SettlementFillRejected, fillIndex=2, reason=MAKER_NOT_ALLOWED):
        settle(settlement, operator, fills)
    compliance.setBlocked(carol, False, sender=compliance_officer)
    compliance.setBlocked(bob, True, sender=compliance_officer)
    with ape.reverts(settlement.SettlementFillRejected, fillIndex=0, reason=MAKER_NOT_ALLOWED):
        settle(settlement, operator, fills)
    compliance.setBlocked(bob, False, sender=compliance_officer)
    settle(settlement, operator, fills)


def test_engine_must_be_a_contract(project, admin, core, perp, stranger):
    assert_deploy_reverts(project.Settlement, "SettlementEngineNotContract(address)", core.acl, stranger,
                          perp.registry, core.compliance, sender=admin)  # fmt: skip
