"""Schema-based fuzzing of every REST operation from the OpenAPI spec (schemathesis) against real uvicorn:
no input may produce a 5xx, and answers must match the documented schemas.

Examples per operation: the Hypothesis profile's, at most 10 (ci: 10, dev: 5); a valid session token is sent so the
private operations are exercised beyond their 401.
"""

from __future__ import annotations

import pytest
import schemathesis
from gw_helpers import ADDRS, KEYS, body, login, order
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from offchain.gateway import GatewayConfig

FUZZ_CONFIG = GatewayConfig(ip_rate=1e6, ip_burst=1e6, account_rate=1e6, account_burst=1e6)


@pytest.fixture
def gw_config():
    return FUZZ_CONFIG


@pytest.fixture
def api_schema(server, client):
    # Some state for the fuzzer to hit: a resting order and a logged-in trader.
    client.post("/orders", json=body(order(ADDRS[0], buy=True), KEYS[0]))
    # Coverage phase off: its exhaustive boundary cases cost ~30 s; the fuzzing phase is bounded below.
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
    return schemathesis.openapi.from_url(server.url + "/openapi.json", config=config)


@pytest.fixture
def token(client):
    return login(client, KEYS[0])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=min(settings().max_examples, 10), suppress_health_check=list(HealthCheck), deadline=None)
def test_no_server_errors(case, token):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    response = case.call(timeout=10)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
