"""Role identifiers, mirroring contracts/access/Roles.sol."""

from __future__ import annotations

from eth_utils import keccak

ADMIN: bytes = b"\x00" * 32
OPERATOR: bytes = keccak(text="perpx.role.OPERATOR")
KEEPER: bytes = keccak(text="perpx.role.KEEPER")
GUARDIAN: bytes = keccak(text="perpx.role.GUARDIAN")
COMPLIANCE: bytes = keccak(text="perpx.role.COMPLIANCE")
LEDGER: bytes = keccak(text="perpx.role.LEDGER")
MINTER: bytes = keccak(text="perpx.role.MINTER")
SETTLER: bytes = keccak(text="perpx.role.SETTLER")
FUNDING: bytes = keccak(text="perpx.role.FUNDING")
LIQUIDATOR: bytes = keccak(text="perpx.role.LIQUIDATOR")

ALL: dict[str, bytes] = {
    "ADMIN": ADMIN,
    "OPERATOR": OPERATOR,
    "KEEPER": KEEPER,
    "GUARDIAN": GUARDIAN,
    "COMPLIANCE": COMPLIANCE,
    "LEDGER": LEDGER,
    "MINTER": MINTER,
    "SETTLER": SETTLER,
    "FUNDING": FUNDING,
    "LIQUIDATOR": LIQUIDATOR,
}


def role_id(name: str) -> bytes:
    """Return the 32-byte id of role ``name`` (case-insensitive), or raise ``KeyError`` naming the choices."""
    try:
        return ALL[name.upper()]
    except KeyError:
        raise KeyError(f"unknown role {name!r}; expected one of {', '.join(ALL)}") from None
