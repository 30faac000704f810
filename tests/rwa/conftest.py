"""RWA fixtures: an xAAPL StockToken with a custodian key and a minter."""

from __future__ import annotations

import pytest

from offchain import roles
from offchain.bridge.deploy import deploy_stock_token
from rwa.helpers import CUSTODIAN, MAX_AGE


@pytest.fixture(scope="session")
def minter(operator):
    """The operator account; the stock fixture grants it Roles.MINTER."""
    return operator


@pytest.fixture(scope="session")
def stock(project, admin, core, minter, traders):
    token = deploy_stock_token(
        project, admin, core, name="perpx Apple", symbol="xAAPL", custodian=CUSTODIAN, max_age=MAX_AGE, minters=[minter]
    )
    assert core.acl.hasRole(roles.MINTER, minter)
    return token
