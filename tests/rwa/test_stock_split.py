"""Staged share multiplier (SECURITY 33 second half, R2): a split activates at its announced time,
price x multiplier is continuous across it, and reserve coverage is unchanged by it."""

import ape
from eth_utils import keccak

from rwa.helpers import SHARE, attest

DAY = 86_400
PRICE = 180 * 10**18  # per share, from the feed


def _stage_2_for_1(chain, stock, admin):
    at = chain.pending_timestamp + DAY + 10
    tx = stock.stageSplit(2 * SHARE, at, sender=admin)
    return tx, at


def test_stage_needs_notice_and_admin(chain, stock, admin, stranger):
    soon = chain.pending_timestamp + DAY - 1
    with ape.reverts(stock.StockSplitNoticeTooShort):
        stock.stageSplit(2 * SHARE, soon, sender=admin)
    with ape.reverts(stock.StockSplitZeroMultiplier):
        stock.stageSplit(0, soon + DAY, sender=admin)
    with ape.reverts(stock.AccessControlUnauthorizedAccount):
        stock.stageSplit(2 * SHARE, soon + DAY, sender=stranger)
    tx, at = _stage_2_for_1(chain, stock, admin)
    [log] = tx.events.filter(stock.SplitStaged)
    assert (log.fromMultiplierX18, log.toMultiplierX18, log.activatesAt) == (SHARE, 2 * SHARE, at)
    assert stock.stagedSplit() == (2 * SHARE, at)


def test_multiplier_switches_exactly_at_activation(chain, stock, admin):
    _, at = _stage_2_for_1(chain, stock, admin)
    chain.pending_timestamp = at - 1
    chain.mine()
    assert stock.multiplierX18() == SHARE
    chain.pending_timestamp = at
    chain.mine()
    assert stock.multiplierX18() == 2 * SHARE
    assert stock.stagedSplit() == (0, 0)


def test_price_times_multiplier_is_continuous(chain, stock, admin, keeper, minter, traders):
    """A long position's value in quote terms is unchanged by the split: nothing to liquidate."""
    alice = traders[0]
    attest(stock, chain, 100 * SHARE, 1, sender=keeper)
    stock.mint(alice, 10 * SHARE, sender=minter)
    _, at = _stage_2_for_1(chain, stock, admin)
    chain.pending_timestamp = at - 1
    chain.mine()
    before = stock.pricePerToken(PRICE) * stock.balanceOf(alice) // SHARE
    chain.pending_timestamp = at
    chain.mine()
    after = stock.pricePerToken(PRICE // 2) * stock.balanceOf(alice) // SHARE  # feed now quotes post-split shares
    assert before == after == 1_800 * 10**18
    assert stock.sharesOf(alice) == 20 * SHARE
    # Redemption after the split releases the post-split share count.
    tx = stock.redeem(SHARE, keccak(b"acct"), sender=alice)
    assert tx.events.filter(stock.RedemptionRequested)[0].shares == 2 * SHARE


def test_coverage_is_unchanged_by_split(chain, stock, admin, keeper, minter, traders):
    alice = traders[0]
    stock.setMaxAttestationAge(3 * DAY, sender=admin)
    attest(stock, chain, 100 * SHARE, 1, sender=keeper)
    stock.mint(alice, 90 * SHARE, sender=minter)
    _, at = _stage_2_for_1(chain, stock, admin)
    chain.pending_timestamp = at
    chain.mine()
    # The pre-split attestation (100 shares at x1) still covers 100 tokens, no more.
    assert stock.reserve()[1] == 100 * SHARE
    with ape.reverts(stock.StockTokenExceedsReserve):
        stock.mint(alice, 10 * SHARE + 1, sender=minter)
    # Post-split, the custodian holds 200 shares: they cover the same 100 tokens.
    attest(stock, chain, 200 * SHARE, 2, sender=keeper)
    assert stock.latestAttestation().multiplierX18 == 2 * SHARE
    assert stock.reserve()[1] == 100 * SHARE
    stock.mint(alice, 10 * SHARE, sender=minter)
    # A pre-split report posted late is refused: it would be read at the wrong multiplier.
    with ape.reverts(stock.StockTokenAttestationReplayed):
        attest(stock, chain, 100 * SHARE, 2, timestamp=at - 5, sender=keeper)
    with ape.reverts(stock.StockTokenAttestationOutOfOrder):
        attest(stock, chain, 100 * SHARE, 3, timestamp=at - 5, sender=keeper)


def test_cancel_before_activation(chain, stock, admin):
    _, at = _stage_2_for_1(chain, stock, admin)
    tx = stock.cancelSplit(sender=admin)
    [log] = tx.events.filter(stock.SplitCancelled)
    assert (log.toMultiplierX18, log.activatesAt) == (2 * SHARE, at)
    chain.pending_timestamp = at + 1
    chain.mine()
    assert stock.multiplierX18() == SHARE
    with ape.reverts(stock.StockSplitNothingStaged):
        stock.cancelSplit(sender=admin)


def test_cannot_cancel_after_activation(chain, stock, admin):
    _, at = _stage_2_for_1(chain, stock, admin)
    chain.pending_timestamp = at
    chain.mine()
    with ape.reverts(stock.StockSplitNothingStaged):
        stock.cancelSplit(sender=admin)
    assert stock.multiplierX18() == 2 * SHARE
    assert stock.lastSplitAt() == at
