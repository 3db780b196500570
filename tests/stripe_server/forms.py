"""Stripe's request encoding: form fields with bracketed keys, nested to any depth.

The SDK sends `metadata[invoice_number]=INV-1` and `expand[0]=lines`; the
server works with the nested dicts and lists they stand for. Values stay
strings, as they arrive: each endpoint converts what it reads.
"""

import re
from urllib.parse import parse_qsl

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_form(encoded: str) -> dict:
    """Decode `a[b][c]=v&l[0]=x` into `{"a": {"b": {"c": "v"}}, "l": ["x"]}`."""
    tree: dict = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head, *_KEY_PART.findall("[" + rest)] if rest else [head]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        last = parts[-1]
        if last == "":
            last = str(len(node))
        node[last] = value
    return _lists_from_indexed_dicts(tree)


def _lists_from_indexed_dicts(value: object) -> object:
    if not isinstance(value, dict):
        return value
    converted = {key: _lists_from_indexed_dicts(item) for key, item in value.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted
