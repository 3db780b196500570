"""What the Stripe sync has done, in the warehouse: Stripe ids, per-invoice progress, outcomes.

State is written after each request Stripe answered, so a crash between two
requests loses at most the knowledge of the last one, and that request's
idempotency key makes its replay harmless. Tables live in schema `sync`
(created here, outside dbt: dbt rebuilds its models, this state must never be
rebuilt). Times are UTC. Nothing secret is ever written here.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import duckdb

PROVIDER = "stripe"

_DDL = (
    "create schema if not exists sync",
    """
    create table if not exists sync.stripe_objects (
        our_key varchar primary key,
        kind varchar not null,
        stripe_id varchar not null,
        created_at timestamp not null
    )
    """,
    """
    create table if not exists sync.stripe_invoice_status (
        invoice_number varchar primary key,
        stripe_invoice_id varchar,
        step varchar not null,
        status varchar,
        error varchar,
        updated_at timestamp not null
    )
    """,
    """
    create table if not exists sync.payment_outcomes (
        invoice_number varchar not null,
        provider varchar not null,
        outcome varchar not null check (outcome in ('payment', 'payment_failed')),
        amount decimal(18, 2) not null,
        currency varchar not null,
        provider_reference varchar not null,
        failure_code varchar,
        occurred_at timestamp not null,
        recorded_at timestamp not null,
        primary key (invoice_number, provider, outcome)
    )
    """,
)


@dataclass(frozen=True)
class InvoiceProgress:
    """One row of `sync.stripe_invoice_status`.

    `step` is the last request Stripe answered; `status` is the Stripe
    invoice's status as last seen (None before the invoice exists); `error`
    is the last permanent or exhausted error, cleared by the next success.
    """

    invoice_number: str
    stripe_invoice_id: str | None
    step: str
    status: str | None
    error: str | None


@dataclass(frozen=True)
class StripeObject:
    """A Stripe object we created or adopted, under our key for it."""

    our_key: str
    kind: str
    stripe_id: str


@dataclass(frozen=True)
class PaymentOutcome:
    """A payment or failed payment the ledger books; one per invoice and outcome.

    `occurred_at` is when Stripe says the invoice was paid; for a failed
    charge it is the run's as-of, since Stripe's decline carries no time.
    `provider_reference` is the Stripe invoice id; `failure_code` is Stripe's
    error code (`card_declined`) for a failed charge.
    """

    invoice_number: str
    outcome: str
    amount: Decimal
    currency: str
    provider_reference: str
    failure_code: str | None
    occurred_at: datetime


def create_sync_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the sync schema's Stripe tables if missing.

    Called by the sync itself; dbt models that read `sync.payment_outcomes`
    before any sync has run can call it first so the table exists, empty.
    """
    for statement in _DDL:
        conn.execute(statement)


def customer_key(customer_id: str) -> str:
    """Our key for a customer, shared by all its invoices.

    Objects that belong to one invoice are keyed like the request that made
    them, which is its idempotency key (`INV-000042:invoiceitem:3`).
    """
    return f"customer:{customer_id}"


class StripeSyncState:
    """Reads and writes the sync tables on a writable warehouse connection."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self._conn = conn
        create_sync_tables(conn)

    def stripe_ids(self, our_keys: Iterable[str]) -> dict[str, str]:
        """The Stripe ids recorded for those of `our_keys` that have one."""
        keys = list(our_keys)
        rows = self._conn.execute(
            "select our_key, stripe_id from sync.stripe_objects where list_contains(?, our_key)",
            [keys],
        ).fetchall()
        return dict(rows)

    def progress(self, invoice_number: str) -> InvoiceProgress | None:
        row = self._conn.execute(
            """
            select invoice_number, stripe_invoice_id, step, status, error
            from sync.stripe_invoice_status where invoice_number = ?
            """,
            [invoice_number],
        ).fetchone()
        return InvoiceProgress(*row) if row else None

    def has_outcome(self, invoice_number: str, outcome: str) -> bool:
        row = self._conn.execute(
            """
            select count(*) from sync.payment_outcomes
            where invoice_number = ? and provider = ? and outcome = ?
            """,
            [invoice_number, PROVIDER, outcome],
        ).fetchone()
        return bool(row and row[0])

    def record_object(self, new_object: StripeObject) -> None:
        """Remember a customer or invoice item Stripe holds for us; the first id for a key stays."""
        self._insert_object(new_object, _now())

    def record(
        self,
        progress: InvoiceProgress,
        *,
        new_object: StripeObject | None = None,
        outcome: PaymentOutcome | None = None,
    ) -> None:
        """Record an invoice's progress with the object or outcome it came with, atomically.

        An outcome is booked once: recording the same answer again changes
        nothing but `updated_at`.
        """
        now = _now()
        if new_object is None and outcome is None:
            self._upsert_progress(progress, now)
            return
        self._conn.begin()
        try:
            if new_object:
                self._insert_object(new_object, now)
            if outcome:
                self._insert_outcome(outcome, now)
            self._upsert_progress(progress, now)
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise

    def _insert_object(self, new_object: StripeObject, now: datetime) -> None:
        self._conn.execute(
            "insert into sync.stripe_objects values (?, ?, ?, ?) on conflict do nothing",
            [new_object.our_key, new_object.kind, new_object.stripe_id, now],
        )

    def _upsert_progress(self, progress: InvoiceProgress, now: datetime) -> None:
        self._conn.execute(
            """
            insert into sync.stripe_invoice_status values (?, ?, ?, ?, ?, ?)
            on conflict (invoice_number) do update set
                stripe_invoice_id = excluded.stripe_invoice_id, step = excluded.step,
                status = excluded.status, error = excluded.error,
                updated_at = excluded.updated_at
            """,
            [
                progress.invoice_number,
                progress.stripe_invoice_id,
                progress.step,
                progress.status,
                progress.error,
                now,
            ],
        )

    def _insert_outcome(self, outcome: PaymentOutcome, now: datetime) -> None:
        self._conn.execute(
            """
            insert into sync.payment_outcomes values (?, ?, ?, ?, ?, ?, ?, ?, ?)
            on conflict do nothing
            """,
            [
                outcome.invoice_number,
                PROVIDER,
                outcome.outcome,
                outcome.amount,
                outcome.currency,
                outcome.provider_reference,
                outcome.failure_code,
                _utc_naive(outcome.occurred_at),
                now,
            ],
        )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _utc_naive(moment: datetime) -> datetime:
    """The warehouse keeps UTC in plain `timestamp` columns, like the rest of the project."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
