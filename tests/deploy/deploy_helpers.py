"""Deployment tests: the local configuration every test deploys from."""

from __future__ import annotations

from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / "deployments" / "config" / "ethereum-local.yaml"
