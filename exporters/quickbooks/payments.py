"""Which of our invoices were paid, from the outcomes the payment provider reported.

Another part of the pipeline writes `sync.payment_outcomes` (one row per
outcome the provider reported: `invoice_number, provider, outcome, amount,
currency, provider_reference, occurred_at`). Until it exists, nothing is
paid as far as QuickBooks is concerned. Only `outcome = 'payment'` (the
ledger's name for money received) books a payment; `payment_failed` moves
no money.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb

PAID = "payment"


@dataclass(frozen=True)
class PaidOutcome:
    invoice_number: str
    provider: str
    amount: Decimal
    currency: str
    provider_reference: str
    occurred_at: datetime

    @property
    def our_key(self) -> str:
        return f"payment:{self.provider}:{self.provider_reference}"


def read_paid_outcomes(conn: duckdb.DuckDBPyConnection, invoice_number: str) -> list[PaidOutcome]:
    """The invoice's payments, oldest first; one per provider reference."""
    if not _outcomes_table_exists(conn):
        return []
    rows = conn.execute(
        """
        select distinct on (provider, provider_reference)
            invoice_number, provider, amount, currency, provider_reference, occurred_at
        from sync.payment_outcomes
        where invoice_number = ? and outcome = ?
        order by provider, provider_reference, occurred_at
        """,
        [invoice_number, PAID],
    ).fetchall()
    outcomes = [
        PaidOutcome(
            number, provider, Decimal(str(amount)), currency.upper(), reference, occurred_at
        )
        for number, provider, amount, currency, reference, occurred_at in rows
    ]
    return sorted(outcomes, key=lambda outcome: (outcome.occurred_at, outcome.our_key))


def _outcomes_table_exists(conn: duckdb.DuckDBPyConnection) -> bool:
    row = conn.execute(
        """
        select count(*) from information_schema.tables
        where table_schema = 'sync' and table_name = 'payment_outcomes'
        """
    ).fetchone()
    return bool(row and row[0])
