"""A YAML loader that keeps numbers exact and refuses duplicate keys.

PyYAML turns `0.1` into a binary float; prices must stay exact, so this
loader builds `Decimal` from the number's own text instead. A duplicated key
would silently keep only the last value, which hides typos in prices.
"""

from decimal import Decimal
from typing import Any

import yaml


class DecimalSafeLoader(yaml.SafeLoader):
    """SafeLoader with exact decimals and strict mappings."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    specials = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
    return Decimal(specials.get(text, text))


DecimalSafeLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def load_yaml(text: str) -> Any:
    """Parse YAML text with exact decimals; raises `yaml.YAMLError` on bad YAML."""
    return yaml.load(text, Loader=DecimalSafeLoader)
