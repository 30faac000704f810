"""Liquidation: Python reference, deploy step, keeper logic, bench and gas measurement (issue 6)."""
