"""tests/SECURITY_MATRIX.md maps every SECURITY.md item to test node ids that exist.

Cheap and chain-free: node ids are resolved by parsing the test files' AST (module-level functions,
and methods of module-level classes), so a renamed or deleted test fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MATRIX = REPO / "tests" / "SECURITY_MATRIX.md"
EXPECTED = (
    [f"C{i}" for i in range(1, 34)]
    + [f"P{i}" for i in range(1, 22)]
    + [f"B{i}" for i in range(1, 13)]
    + [f"R{i}" for i in range(1, 4)]
)
ROW = re.compile(r"^\|\s*([CPBR]\d+)\s*\|([^|]*)\|([^|]*)\|\s*$")


def parse_matrix(text: str) -> dict[str, list[str]]:
    """Item id -> node ids, from the markdown tables; a duplicated id is an error."""
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = ROW.match(line.strip())
        if not m:
            continue
        item, _, cell = m.groups()
        if item in rows:
            raise ValueError(f"item {item} listed twice")
        rows[item] = [n.strip() for n in cell.split("<br>") if n.strip()]
    return rows


def defined_names(path: Path) -> set[str]:
    """``func`` and ``Class::method`` names defined at the top level of a Python file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(f"{node.name}::{sub.name}")
    return names


def missing_node_ids(node_ids: list[str], root: Path = REPO) -> list[str]:
    """The node ids whose file or test function does not exist."""
    cache: dict[Path, set[str]] = {}
    missing = []
    for node_id in node_ids:
        file_part, sep, name = node_id.partition("::")
        path = root / file_part
        if not sep or not path.is_file() or not Path(file_part).name.startswith("test_"):
            missing.append(node_id)
            continue
        if path not in cache:
            cache[path] = defined_names(path)
        leaf = name.rsplit("::", 1)[-1]
        if name not in cache[path] or not leaf.startswith("test_"):
            missing.append(node_id)
    return missing


def test_every_item_is_mapped_to_at_least_one_test():
    rows = parse_matrix(MATRIX.read_text())
    assert sorted(rows) == sorted(EXPECTED), f"missing {set(EXPECTED) - set(rows)}, extra {set(rows) - set(EXPECTED)}"
    empty = [item for item, ids in rows.items() if not ids]
    assert not empty, f"items without tests: {empty}"


def test_every_mapped_test_exists():
    rows = parse_matrix(MATRIX.read_text())
    missing = {item: bad for item, ids in rows.items() if (bad := missing_node_ids(ids))}
    assert not missing, f"matrix names tests that do not exist: {missing}"


def test_checker_catches_bad_rows(tmp_path):
    """The checker itself fails on a missing file, a missing function, a non-test and a duplicate row."""
    tests = tmp_path / "tests"
    tests.mkdir()
    source = "def test_a():\n    pass\n\ndef helper():\n    pass\n\nclass K:\n    def test_m(self):\n        pass\n"
    (tests / "test_x.py").write_text(source)
    ids = [
        "tests/test_x.py::test_a",
        "tests/test_x.py::K::test_m",
        "tests/test_x.py::test_b",
        "tests/test_x.py::helper",
        "tests/test_y.py::test_a",
        "tests/test_x.py",
    ]
    assert missing_node_ids(ids, tmp_path) == ids[2:]
    with pytest.raises(ValueError, match="twice"):
        parse_matrix("| C1 | a | tests/test_x.py::test_a |\n| C1 | b | tests/test_x.py::test_a |\n")
