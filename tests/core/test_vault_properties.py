"""Property: over random deposit / withdraw / internal-transfer / donation sequences the Vault
matches an exact Python model (reverts predicted in both directions) and conserves value:
token.balanceOf(vault) * scale >= totalX18 == sum of internal balances."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from ape.exceptions import ContractLogicError
from helpers import MAX_UINT
from hypothesis import given
from hypothesis import strategies as st

N_ACCOUNTS = 3


@dataclass
class TokenModel:
    decimals: int
    fee_bps: int = 0
    held: int = 0  # token units the Vault holds
    balances: dict[int, int] = field(default_factory=dict)  # account index -> internal units

    @property
    def scale(self) -> int:
        return 10 ** (18 - self.decimals)

    @property
    def total(self) -> int:
        return sum(self.balances.values())


@pytest.fixture(scope="session")
def prop_tokens(project, admin, vault, usdc, weth, traders):
    fee = project.MockFeeOnTransferToken.deploy(50, sender=admin)  # 0.5%
    vault.listCollateral(fee, MAX_UINT, sender=admin)
    tokens = [usdc, weth, fee]
    for trader in traders:
        for token in tokens:
            token.mint(trader, 10**30, sender=trader)
            token.approve(vault, MAX_UINT, sender=trader)
    return tokens


amounts = st.one_of(st.integers(1, 10), st.integers(1, 10**9), st.integers(1, 10**21))
operation = st.one_of(
    st.tuples(st.just("deposit"), st.integers(0, N_ACCOUNTS - 1), st.integers(0, 2), amounts),
    st.tuples(st.just("withdraw"), st.integers(0, N_ACCOUNTS - 1), st.integers(0, 2), amounts),
    st.tuples(st.just("withdraw_all"), st.integers(0, N_ACCOUNTS - 1), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("transfer"), st.integers(0, N_ACCOUNTS - 1), st.integers(0, 2), amounts),
    st.tuples(st.just("donate"), st.integers(0, N_ACCOUNTS - 1), st.integers(0, 2), amounts),
)


def _expect(succeeds: bool, call, *args, **kwargs) -> None:
    try:
        call(*args, **kwargs)
    except ContractLogicError as err:
        assert not succeeds, f"model expected success, contract reverted: {err}"
        return
    assert succeeds, "model expected a revert, contract succeeded"


@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_vault_matches_model_and_conserves(chain, vault, prop_tokens, traders, ledger, ops):
    with chain.isolate():
        models = [TokenModel(6), TokenModel(18), TokenModel(6, fee_bps=50)]
        for kind, who, tok, amount in ops:
            token, model, account = prop_tokens[tok], models[tok], traders[who]
            balance = model.balances.get(who, 0)
            if kind == "deposit":
                received = amount - amount * model.fee_bps // 10_000
                _expect(received > 0, vault.deposit, token, amount, sender=account)
                if received > 0:
                    model.held += received
                    model.balances[who] = balance + received * model.scale
            elif kind in ("withdraw", "withdraw_all"):
                if kind == "withdraw_all":
                    amount = vault.withdrawableAmount(account, token)
                    assert amount == balance // model.scale  # floors
                ok = amount > 0 and amount * model.scale <= balance
                _expect(ok, vault.withdraw, token, amount, sender=account)
                if ok:
                    model.held -= amount
                    model.balances[who] = balance - amount * model.scale
            elif kind == "transfer":
                to = (who + 1) % N_ACCOUNTS
                amount_x18 = amount * 10**6 + amount  # not a multiple of any scale: creates dust
                ok = amount_x18 <= balance
                _expect(ok, vault.transferInternal, token, account, traders[to], amount_x18, sender=ledger)
                if ok:
                    model.balances[who] = balance - amount_x18
                    model.balances[to] = model.balances.get(to, 0) + amount_x18
            else:  # donation straight to the Vault
                token.transfer(vault, amount, sender=account)
                model.held += amount - amount * model.fee_bps // 10_000

            # Invariants after every step.
            for token_i, model_i in zip(prop_tokens, models, strict=True):
                assert token_i.balanceOf(vault) == model_i.held
                total = vault.collaterals(token_i)[5]
                assert total == model_i.total
                assert model_i.held * model_i.scale >= total
                for i, trader in enumerate(traders):
                    assert vault.balances(trader, token_i) == model_i.balances.get(i, 0)

        # Exit all: everyone withdraws what they can; the Vault still holds what is owed (rounded up).
        for token, model in zip(prop_tokens, models, strict=True):
            for trader in traders:
                amount = vault.withdrawableAmount(trader, token)
                if amount:
                    vault.withdraw(token, amount, sender=trader)
            dust = vault.collaterals(token)[5]
            assert dust < len(traders) * model.scale
            assert token.balanceOf(vault) * model.scale >= dust
