"""Placeholders for ids that only exist once an earlier request has been answered.

Request sequences are built before anything is sent (and written to the
outbox when nothing is sent at all), so a request that needs the customer
created two steps earlier says `{{customer.id}}` (Stripe) or `{{customer.Id}}`
(QuickBooks, whose ids are capitalized). The sync client fills them in.
"""

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\{\{(\w+)\.(?:id|Id)\}\}")


def substitute_ids(value: object, ids: Mapping[str, str], *, step: str) -> object:
    """Copy `value` (str, dict, list or scalar) with every placeholder replaced by its id.

    A placeholder with no id yet is an error naming the step: sent literally,
    it would fail at the provider with a less helpful message.
    """

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            raise LookupError(f"{step}: no id bound yet for {match.group(0)}")
        return ids[name]

    if isinstance(value, str):
        return _PLACEHOLDER.sub(lookup, value)
    if isinstance(value, dict):
        return {key: substitute_ids(item, ids, step=step) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute_ids(item, ids, step=step) for item in value]
    return value
