"""Perpetual engine: reference model (exact integer and Fraction maths), deployment and gas measurement."""
