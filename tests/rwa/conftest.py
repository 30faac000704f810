"""RWA fixtures: an xAAPL StockToken with a custodian key and a minter."""

from __future__ import annotations

import pytest

from offchain import roles
from rwa.helpers import CUSTODIAN, MAX_AGE


@pytest.fixture(scope="session")
def minter(operator, acl, admin):
    """The operator account, granted Roles.MINTER."""
    acl.grantRole(roles.MINTER, operator, sender=admin)
    return operator


@pytest.fixture(scope="session")
def stock(project, admin, acl, compliance, minter, traders):
    return project.StockToken.deploy("perpx Apple", "xAAPL", acl, compliance, CUSTODIAN, MAX_AGE, sender=admin)
