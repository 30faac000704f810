"""offchain.units and offchain.roles: conversions match the Vault's and bad input fails clearly."""

from __future__ import annotations

import pytest

from offchain import roles
from offchain.units import internal_to_token_ceil, internal_to_token_floor, to_x18, token_to_internal


def test_to_x18():
    assert to_x18("1.5") == 15 * 10**17
    assert to_x18(2) == 2 * 10**18
    with pytest.raises(ValueError, match="more than 18 decimals"):
        to_x18("0.0000000000000000001")


def test_token_internal_round_trip_and_rounding():
    assert token_to_internal(1, 6) == 10**12
    assert internal_to_token_floor(10**12 - 1, 6) == 0
    assert internal_to_token_ceil(10**12 - 1, 6) == 1
    assert internal_to_token_ceil(10**12, 6) == 1
    assert internal_to_token_floor(7, 18) == internal_to_token_ceil(7, 18) == 7
    with pytest.raises(ValueError, match=r"decimals must be 0\.\.18"):
        token_to_internal(1, 19)


def test_role_lookup():
    assert roles.role_id("keeper") == roles.KEEPER
    with pytest.raises(KeyError, match="unknown role 'root'"):
        roles.role_id("root")
