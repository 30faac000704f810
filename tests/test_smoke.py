def test_deposit_withdraw_roundtrip(vault, usdc, traders):
    alice = traders[0]
    usdc.mint(alice, 1_000 * 10**6, sender=alice)
    usdc.approve(vault, 2**256 - 1, sender=alice)
    vault.deposit(usdc, 1_000 * 10**6, sender=alice)
    assert vault.balances(alice, usdc) == 1_000 * 10**18
    vault.withdraw(usdc, 400 * 10**6, sender=alice)
    assert usdc.balanceOf(alice) == 400 * 10**6
