"""StockToken: minting capped by fresh, authorised, unreplayed attestations for this chain and
contract; redemption; reserve view (SECURITY 33, R1)."""

import ape
import pytest
from eth_utils import keccak

from rwa.helpers import CUSTODIAN, MAX_AGE, OTHER_KEY, SHARE, attest


def test_attestation_is_stored_and_evented(chain, stock, keeper):
    ts = chain.pending_timestamp = chain.pending_timestamp  # pinned: the attestation's block has this time
    tx = attest(stock, chain, 100 * SHARE, 1, sender=keeper, report=b"Q3 statement")
    [log] = tx.events.filter(stock.ReserveAttested)
    assert (log.nonce, log.sharesHeld, log.reportHash, log.timestamp, log.multiplierX18) == (
        1,
        100 * SHARE,
        keccak(b"Q3 statement"),
        ts,
        SHARE,
    )
    latest = stock.latestAttestation()
    assert (latest.sharesHeld, latest.nonce, latest.timestamp) == (100 * SHARE, 1, ts)


def test_mint_within_reserve_up_to_exact_boundary(chain, stock, keeper, minter, traders):
    alice, bob, _ = traders
    attest(stock, chain, 100 * SHARE, 1, sender=keeper)
    tx = stock.mint(alice, 60 * SHARE, sender=minter)
    [log] = tx.events.filter(stock.StockMinted)
    assert (log.to, log.amount, log.attestationNonce) == (alice.address, 60 * SHARE, 1)
    stock.mint(bob, 40 * SHARE, sender=minter)
    assert stock.totalSupply() == 100 * SHARE
    with ape.reverts(stock.StockTokenExceedsReserve, newSupply=100 * SHARE + 1, covered=100 * SHARE):
        stock.mint(bob, 1, sender=minter)


def test_no_attestation_no_mint(stock, minter, traders):
    with ape.reverts(stock.StockTokenStaleAttestation):
        stock.mint(traders[0], 1, sender=minter)


def test_stale_attestation_stops_minting(chain, stock, keeper, minter, traders):
    tx = attest(stock, chain, 100 * SHARE, 1, sender=keeper)
    chain.pending_timestamp = tx.timestamp + MAX_AGE
    stock.mint(traders[0], SHARE, sender=minter)  # exactly max age: still fresh
    chain.pending_timestamp = tx.timestamp + MAX_AGE + 1
    with ape.reverts(stock.StockTokenStaleAttestation, age=MAX_AGE + 1, maxAge=MAX_AGE):
        stock.mint(traders[0], SHARE, sender=minter)
    attest(stock, chain, 100 * SHARE, 2, sender=keeper)
    stock.mint(traders[0], SHARE, sender=minter)


def test_stale_future_or_out_of_order_attestations_refused(chain, stock, keeper):
    now = chain.pending_timestamp
    with ape.reverts(stock.StockTokenStaleAttestation, age=MAX_AGE + 1, maxAge=MAX_AGE):
        attest(stock, chain, SHARE, 1, timestamp=now - MAX_AGE - 1, sender=keeper)
    with ape.reverts(stock.StockTokenAttestationFromFuture):
        attest(stock, chain, SHARE, 1, timestamp=now + 100, sender=keeper)
    attest(stock, chain, SHARE, 1, timestamp=now - 10, sender=keeper)
    with ape.reverts(stock.StockTokenAttestationOutOfOrder, timestamp=now - 20, floor=now - 10):
        attest(stock, chain, 5 * SHARE, 2, timestamp=now - 20, sender=keeper)


def test_unauthorised_signer_refused(chain, stock, keeper):
    with ape.reverts(stock.StockTokenUnauthorisedAttestation, custodian=CUSTODIAN):
        attest(stock, chain, 10**9 * SHARE, 1, key=OTHER_KEY, sender=keeper)


def test_replayed_attestation_refused(chain, stock, keeper, minter, traders):
    ts = chain.pending_timestamp
    first = attest(stock, chain, 100 * SHARE, 1, timestamp=ts, sender=keeper)
    assert first.events.filter(stock.ReserveAttested)
    attest(stock, chain, 10 * SHARE, 2, sender=keeper)
    # Re-posting the old, larger attestation (same signature) is refused.
    with ape.reverts(stock.StockTokenAttestationReplayed, nonce=1, lastNonce=2):
        attest(stock, chain, 100 * SHARE, 1, timestamp=ts, sender=keeper)
    with ape.reverts(stock.StockTokenAttestationReplayed, nonce=2, lastNonce=2):
        attest(stock, chain, 100 * SHARE, 2, sender=keeper)
    with ape.reverts(stock.StockTokenExceedsReserve):
        stock.mint(traders[0], 11 * SHARE, sender=minter)


def test_attestation_for_other_chain_or_contract_refused(project, admin, acl, compliance, chain, stock, keeper):
    with ape.reverts(stock.StockTokenUnauthorisedAttestation):
        attest(stock, chain, SHARE, 1, chain_id=chain.chain_id + 1, sender=keeper)
    twin = project.StockToken.deploy("perpx Apple 2", "xAAPL2", acl, compliance, CUSTODIAN, MAX_AGE, sender=admin)
    ts = chain.pending_timestamp
    from offchain.bridge.attestor import sign_attestation
    from rwa.helpers import CUSTODIAN_KEY

    sig_for_twin = sign_attestation(CUSTODIAN_KEY, chain.chain_id, twin.address, SHARE, keccak(b"r"), ts, 1)
    with ape.reverts(stock.StockTokenUnauthorisedAttestation):
        stock.postAttestation(SHARE, keccak(b"r"), ts, 1, sig_for_twin, sender=keeper)
    # Tampering with any field invalidates the signature.
    sig = sign_attestation(CUSTODIAN_KEY, chain.chain_id, stock.address, SHARE, keccak(b"r"), ts, 1)
    with ape.reverts(stock.StockTokenUnauthorisedAttestation):
        stock.postAttestation(2 * SHARE, keccak(b"r"), ts, 1, sig, sender=keeper)


def test_only_minter_mints(chain, stock, keeper, traders, admin, stranger):
    attest(stock, chain, 100 * SHARE, 1, sender=keeper)
    for who in (admin, keeper, stranger):
        with ape.reverts(stock.AccessControlUnauthorizedAccount, account=who.address):
            stock.mint(traders[0], SHARE, sender=who)


def test_compliance_on_mint_and_transfer(
    chain, stock, keeper, minter, traders, stranger, compliance, compliance_officer
):
    alice, bob, _ = traders
    attest(stock, chain, 100 * SHARE, 1, sender=keeper)
    with ape.reverts(stock.StockTokenComplianceRefused, account=stranger.address):
        stock.mint(stranger, SHARE, sender=minter)
    stock.mint(alice, 10 * SHARE, sender=minter)
    compliance.setBlocked(bob, True, sender=compliance_officer)
    with ape.reverts(stock.StockTokenComplianceRefused, account=bob.address):
        stock.transfer(bob, SHARE, sender=alice)
    compliance.setBlocked(alice, True, sender=compliance_officer)
    with ape.reverts(stock.StockTokenComplianceRefused, account=alice.address):
        stock.redeem(SHARE, keccak(b"acct"), sender=alice)
    with ape.reverts(stock.StockTokenZeroAmount):
        stock.mint(bob, 0, sender=minter)


def test_redemption_burns_and_emits_custodian_instruction(chain, stock, keeper, minter, traders):
    alice = traders[0]
    attest(stock, chain, 100 * SHARE, 1, sender=keeper)
    stock.mint(alice, 10 * SHARE, sender=minter)
    ref = keccak(b"broker account 42")
    tx = stock.redeem(3 * SHARE, ref, sender=alice)
    [log] = tx.events.filter(stock.RedemptionRequested)
    assert (log.redemptionId, log.holder, log.amount, log.shares, log.custodyAccount) == (
        1,
        alice.address,
        3 * SHARE,
        3 * SHARE,
        ref,
    )
    assert stock.totalSupply() == 7 * SHARE
    assert stock.redeem(SHARE, ref, sender=alice).events.filter(stock.RedemptionRequested)[0].redemptionId == 2
    with ape.reverts(stock.StockTokenZeroAmount):
        stock.redeem(0, ref, sender=alice)
    with ape.reverts(stock.ERC20InsufficientBalance):
        stock.redeem(100 * SHARE, ref, sender=alice)


def test_reserve_view(chain, stock, keeper, minter, traders):
    attested, covered, supply, ratio, _ = stock.reserve()
    assert (attested, covered, supply, ratio) == (0, 0, 0, 2**256 - 1)
    tx = attest(stock, chain, 100 * SHARE, 1, sender=keeper)
    stock.mint(traders[0], 80 * SHARE, sender=minter)
    chain.pending_timestamp = tx.timestamp + 50
    chain.mine()
    # read at the mined block: a call on the pending block can be a second later on a loaded machine
    attested, covered, supply, ratio, age = stock.reserve(block_id=chain.blocks.head.number)
    assert (attested, covered, supply, ratio, age) == (100 * SHARE, 100 * SHARE, 80 * SHARE, 125 * 10**16, 50)
    # A custodian shortfall is accepted (it is the truth), shows ratio < 1 and stops minting.
    attest(stock, chain, 40 * SHARE, 2, sender=keeper)
    assert stock.reserve()[3] == 5 * 10**17
    with ape.reverts(stock.StockTokenExceedsReserve):
        stock.mint(traders[0], 1, sender=minter)


def test_admin_setters(stock, admin, stranger):
    tx = stock.setMaxAttestationAge(60, sender=admin)
    assert tx.events.filter(stock.MaxAttestationAgeSet)[0].maxAge == 60
    with ape.reverts(stock.StockTokenZeroMaxAge):
        stock.setMaxAttestationAge(0, sender=admin)
    tx = stock.setCustodian(stranger, sender=admin)
    assert tx.events.filter(stock.CustodianSet)[0].custodian == stranger.address
    with ape.reverts(stock.StockTokenZeroAddress):
        stock.setCustodian(ape.utils.ZERO_ADDRESS, sender=admin)
    with ape.reverts(stock.AccessControlUnauthorizedAccount):
        stock.setCustodian(stranger, sender=stranger)


@pytest.mark.parametrize("who", ["custodian_rotated"])
def test_old_custodian_key_refused_after_rotation(chain, stock, keeper, admin, stranger, who):
    stock.setCustodian(stranger, sender=admin)
    with ape.reverts(stock.StockTokenUnauthorisedAttestation, custodian=stranger.address):
        attest(stock, chain, SHARE, 1, sender=keeper)
