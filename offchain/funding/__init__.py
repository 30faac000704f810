"""Funding rate module: Python reference, deploy step, keeper and gas measurement (issue 6)."""
