"""What the sync has booked in QuickBooks, kept in the warehouse (DuckDB schema `sync`).

`sync.quickbooks_objects` maps each of our things (`customer:<customer_id>`,
`item:<name>`, `account:<name>`, `invoice:<number>`,
`payment:<provider>:<reference>`) to its QuickBooks id and last SyncToken,
per company (realm), so a re-run finds everything without creating it
again. `content_hash` is the hash of what we last sent for a customer, so a
changed name, e-mail or address is pushed once. A row is written right
after each create succeeds: a crash loses at most the row of the create in
flight, which the next run finds again by name or DocNumber.

`sync.quickbooks_invoice_status` holds each invoice's latest outcome
(`synced` or `failed` with the error) for finance to read.
No credential is ever stored.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

_DDL = (
    "create schema if not exists sync",
    """
    create table if not exists sync.quickbooks_objects (
        realm_id varchar not null,
        our_key varchar not null,
        entity varchar not null,
        qbo_id varchar not null,
        sync_token varchar,
        content_hash varchar,
        synced_at timestamp not null,
        primary key (realm_id, our_key)
    )
    """,
    """
    create table if not exists sync.quickbooks_invoice_status (
        realm_id varchar not null,
        invoice_number varchar not null,
        status varchar not null,
        qbo_invoice_id varchar,
        error varchar,
        attempted_at timestamp not null,
        primary key (realm_id, invoice_number)
    )
    """,
)


@dataclass(frozen=True)
class SyncedObject:
    our_key: str
    entity: str
    qbo_id: str
    sync_token: str | None
    content_hash: str | None


def create_sync_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the sync schema's QuickBooks tables if missing (dbt's fct_invoices reads them)."""
    for statement in _DDL:
        conn.execute(statement)


class SyncState:
    """The sync tables of one realm; creates them if missing."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, realm_id: str) -> None:
        self._conn = conn
        self._realm_id = realm_id
        create_sync_tables(conn)

    def get(self, our_key: str) -> SyncedObject | None:
        row = self._conn.execute(
            """
            select our_key, entity, qbo_id, sync_token, content_hash
            from sync.quickbooks_objects where realm_id = ? and our_key = ?
            """,
            [self._realm_id, our_key],
        ).fetchone()
        return SyncedObject(*row) if row else None

    def record(
        self,
        our_key: str,
        entity: str,
        qbo_id: str,
        sync_token: str | None,
        content_hash: str | None = None,
    ) -> SyncedObject:
        self._conn.execute(
            """
            insert into sync.quickbooks_objects values (?, ?, ?, ?, ?, ?, ?)
            on conflict (realm_id, our_key) do update set
                entity = excluded.entity, qbo_id = excluded.qbo_id,
                sync_token = excluded.sync_token, content_hash = excluded.content_hash,
                synced_at = excluded.synced_at
            """,
            [self._realm_id, our_key, entity, qbo_id, sync_token, content_hash, _now()],
        )
        return SyncedObject(our_key, entity, qbo_id, sync_token, content_hash)

    def record_invoice_outcome(
        self, invoice_number: str, qbo_invoice_id: str | None, error: str | None
    ) -> None:
        self._conn.execute(
            """
            insert into sync.quickbooks_invoice_status values (?, ?, ?, ?, ?, ?)
            on conflict (realm_id, invoice_number) do update set
                status = excluded.status, qbo_invoice_id = excluded.qbo_invoice_id,
                error = excluded.error, attempted_at = excluded.attempted_at
            """,
            [
                self._realm_id,
                invoice_number,
                "failed" if error else "synced",
                qbo_invoice_id,
                error,
                _now(),
            ],
        )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
