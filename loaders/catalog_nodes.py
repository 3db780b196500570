"""YAML values that know their key path, with typed getters that fail precisely.

`Node(value, "plans[growth v2].base_fee").fail(rule)` raises
`InputError("catalog.yml: plans[growth v2].base_fee: <rule>")`; the getters
below turn a node into an exact Decimal, a count, a date or a text, or fail.
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

from loaders.errors import InputError
from loaders.exact import decimal_problem

CATALOG_FILE = "catalog.yml"

T = TypeVar("T")


class Node:
    """A YAML value with the key path that leads to it, for error messages."""

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path

    def fail(self, rule: str) -> NoReturn:
        where = f"{CATALOG_FILE}: {self.path}" if self.path else CATALOG_FILE
        raise InputError(f"{where}: {rule}")

    def child(self, key: str) -> "Node":
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return Node(value, f"{self.path}.{key}" if self.path else key)

    def mapping(self, required: Iterable[str], optional: Iterable[str]) -> dict[str, Any]:
        """The value as a dict that has every required key and no unknown key."""
        if not isinstance(self.value, dict):
            self.fail("must be a mapping")
        required, allowed = set(required), set(required) | set(optional)
        unknown = sorted(str(k) for k in self.value if k not in allowed)
        if unknown:
            self.fail(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        missing = sorted(k for k in required if self.value.get(k) is None)
        if missing:
            self.child(missing[0]).fail("required key is missing")
        return self.value

    def items(self, name_of: Callable[[Any, int], str]) -> list["Node"]:
        """The value as a list of nodes named `path[name]` (an absent list is empty)."""
        if self.value is None:
            return []
        if not isinstance(self.value, list):
            self.fail("must be a list")
        return [Node(v, f"{self.path}[{name_of(v, i)}]") for i, v in enumerate(self.value, 1)]


def named_by(*keys: str, template: str = "") -> Callable[[Any, int], str]:
    """Name a list item by its id keys (through `template`), or `#position` if they are missing."""

    def name_of(item: Any, position: int) -> str:
        if isinstance(item, dict) and all(item.get(k) is not None for k in keys):
            values = [str(item[k]) for k in keys]
            return template.format(*values) if template else "/".join(values)
        return f"#{position}"

    return name_of


def text_value(node: Node) -> str:
    if not isinstance(node.value, str) or not node.value.strip():
        node.fail("must be a non-empty text")
    return node.value


def amount_value(node: Node) -> Decimal:
    """A non-negative exact decimal (YAML numbers arrive as Decimal or int)."""
    if isinstance(node.value, bool) or not isinstance(node.value, int | Decimal):
        node.fail(f"must be a number, got {node.value!r}")
    value = Decimal(node.value)
    problem = decimal_problem(value)
    if problem:
        node.fail(problem)
    if value < 0:
        node.fail(f"must not be negative, got {value}")
    return value


def positive_value(node: Node) -> Decimal:
    value = amount_value(node)
    if value == 0:
        node.fail("must be greater than 0")
    return value


def count_value(node: Node) -> int:
    if isinstance(node.value, bool) or not isinstance(node.value, int) or node.value < 0:
        node.fail(f"must be a whole number >= 0, got {node.value!r}")
    return node.value


def date_value(node: Node) -> date:
    value = node.value
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            node.fail(f"must be a date (YYYY-MM-DD), got {node.value!r}")
    if isinstance(value, datetime) or not isinstance(value, date):
        node.fail(f"must be a date (YYYY-MM-DD), got {node.value!r}")
    return value


def or_default(node: Node, parse: Callable[[Node], T], default: T) -> T:
    return default if node.value is None else parse(node)
