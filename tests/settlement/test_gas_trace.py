"""The struct-log breakdown of `ape run settle_gas_trace` charges each step its own gas (pure, no chain)."""

from __future__ import annotations

from offchain.settlement import gas_trace

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20


def _step(op: str, depth: int, gas: int, cost: int, stack: list[str] | None = None, pc: int = 0) -> dict:
    return {"op": op, "depth": depth, "gas": gas, "gasCost": cost, "stack": stack or [], "pc": pc}


def test_call_step_excludes_its_callee_and_precompiles_cost_what_the_caller_lost():
    logs = [
        _step("PUSH1", 1, 10_000, 3),
        # CALL to B: the caller goes from 9,997 to 7,000 across it; B's own steps spend 2,200 + 3
        _step("CALL", 1, 9_997, 9_000, ["0x0", "0x" + "bb" * 20, "0x1"]),
        _step("SLOAD", 2, 8_000, 2_100, ["0x5"]),
        _step("SLOAD", 2, 5_900, 100, ["0x5"]),
        _step("STOP", 2, 5_800, 0),
        _step("STATICCALL", 1, 7_000, 6_800, ["0x0", "0x1"]),  # ecrecover: no callee steps
        _step("SSTORE", 1, 3_900, 22_100, ["0x7"]),
        _step("LOG1", 1, 3_000, 1_000),
    ]
    costs = gas_trace.own_costs(logs)
    assert costs[1] == 9_997 - 7_000 - (2_100 + 100 + 0)
    assert costs[5] == 7_000 - 3_900
    b = gas_trace.breakdown(logs, A, {A: "Caller", B: "Callee"})
    assert b.by_contract["Callee"] == 2_200 and b.by_class["storage read"] == 2_200
    assert b.storage["Callee: SLOAD cold"] == 1 and b.storage["Callee: SLOAD warm"] == 1
    assert b.storage["Caller: SSTORE cold zero->nonzero"] == 1
    assert b.logs["Caller LOG1"] == 1 and b.by_class["events"] == 1_000
    assert sum(b.by_class.values()) == sum(costs)


def test_difference_is_the_extra_fills_share():
    one = [_step("SLOAD", 1, 5_000, 2_100, ["0x1"]), _step("LOG1", 1, 2_900, 750)]
    three = [*one, _step("SLOAD", 1, 2_150, 2_100, ["0x2"]), _step("SLOAD", 1, 50, 2_100, ["0x3"])]
    names = {A: "Settlement"}
    d = gas_trace.difference(gas_trace.breakdown(three, A, names), gas_trace.breakdown(one, A, names))
    assert d.by_class == {"storage read": 4_200, "events": 0} and d.steps == 2
    assert d.storage["Settlement: SLOAD cold"] == 2 and d.logs["Settlement LOG1"] == 0
