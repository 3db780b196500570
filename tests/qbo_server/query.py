"""The subset of QuickBooks' query language that python-quickbooks sends for us.

`SELECT * FROM Entity [WHERE cond [AND cond]...] [STARTPOSITION n] [MAXRESULTS n]`
where a condition is `Field = value` or `Field IN (value, ...)`, values are
quoted strings (`\\'` escapes a quote), `true`/`false` or numbers. Strings
compare case-insensitively, as QuickBooks does; a `*Ref` field compares its
`value`. Anything else is a QueryParserError, so a query the real service
would reject cannot pass here.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from tests.qbo_server.faults import query_error

_STATEMENT = re.compile(
    r"^\s*SELECT\s+\*\s+FROM\s+(?P<entity>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+STARTPOSITION\s+(?P<start>\d+))?"
    r"(?:\s+MAXRESULTS\s+(?P<max>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:\\.|[^'\\])*')|(?P<word>[A-Za-z_][\w.]*)|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<symbol>[=(),]))"
)


@dataclass(frozen=True)
class Condition:
    field: str
    values: tuple[object, ...]

    def matches(self, row: dict) -> bool:
        actual = row.get(self.field)
        if isinstance(actual, dict) and "value" in actual:
            actual = actual["value"]
        return any(_equal(actual, value) for value in self.values)


@dataclass(frozen=True)
class Query:
    entity: str
    conditions: tuple[Condition, ...]
    start_position: int
    max_results: int

    def constrains(self, field: str) -> bool:
        return any(condition.field == field for condition in self.conditions)


def parse_query(text: str) -> Query:
    match = _STATEMENT.match(text)
    if not match:
        raise query_error(f"unsupported statement {text!r}")
    conditions = _parse_where(match["where"]) if match["where"] else ()
    return Query(
        entity=match["entity"],
        conditions=conditions,
        start_position=int(match["start"] or 1),
        max_results=int(match["max"] or 100),
    )


def _parse_where(where: str) -> tuple[Condition, ...]:
    tokens = _tokenize(where)
    conditions = []
    position = 0
    while True:
        kind, field = _take(tokens, position)
        operator = _take(tokens, position + 1)[1].upper()
        if kind != "word":
            raise query_error(f"expected a field name, got {field!r}")
        if operator == "=":
            values, position = (_literal(*_take(tokens, position + 2)),), position + 3
        elif operator == "IN":
            values, position = _parse_list(tokens, position + 2)
        else:
            raise query_error(f"unsupported operator {operator!r}")
        conditions.append(Condition(field, values))
        if position == len(tokens):
            return tuple(conditions)
        if _take(tokens, position)[1].upper() != "AND":
            raise query_error(f"expected AND, got {_take(tokens, position)[1]!r}")
        position += 1


def _parse_list(tokens: list[tuple[str, str]], position: int) -> tuple[tuple[object, ...], int]:
    if _take(tokens, position)[1] != "(":
        raise query_error("IN needs a parenthesized list")
    values = []
    position += 1
    while True:
        values.append(_literal(*_take(tokens, position)))
        separator = _take(tokens, position + 1)[1]
        position += 2
        if separator == ")":
            return tuple(values), position
        if separator != ",":
            raise query_error(f"expected ',' or ')', got {separator!r}")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if not match:
            raise query_error(f"cannot parse {text[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match[kind]))
        position = match.end()
    return tokens


def _take(tokens: list[tuple[str, str]], position: int) -> tuple[str, str]:
    if position >= len(tokens):
        raise query_error("unexpected end of query")
    return tokens[position]


def _literal(kind: str, text: str) -> object:
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if kind == "word" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind == "number":
        return Decimal(text)
    raise query_error(f"expected a value, got {text!r}")


def _equal(actual: object, expected: object) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, Decimal):
        try:
            return Decimal(str(actual)) == expected
        except InvalidOperation:
            return False
    return isinstance(actual, str) and actual.casefold() == str(expected).casefold()
